// BOXAGENT_* environment names that are not config keys, in a module without dependencies: the boot selector
// reads them before anything heavy is loaded, and the config loader must not take them for unknown keys.

/** Where fleet-installed releases live (default /var/lib/boxagent/releases): tests and development. */
export const RELEASES_DIR_ENV = 'BOXAGENT_RELEASES_DIR';
