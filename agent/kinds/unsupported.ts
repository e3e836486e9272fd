/** The device's configuration asks for something this build cannot drive. */
export class UnsupportedDeviceError extends Error {
  override name = 'UnsupportedDeviceError';
}
