// Connections are a shared pool: `http.maxConnections` of them. Node's own `server.maxConnections` refuses
// every connection past the cap, so a flood of sockets that send nothing (or open event streams) would keep
// the counter software out until the head timeout cuts them. Here a new connection at the cap evicts an idle
// one instead: first a socket that has never sent a complete request head (oldest first), then a keep-alive
// socket between requests. A connection is refused only when every one has a request in progress.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

interface Tracked {
  /** Requests whose head has arrived and whose response has not closed yet. */
  inFlight: number;
  /** Whether a complete request head ever arrived on this socket. */
  served: boolean;
}

/** What happened at the cap: an idle connection closed for the new one, or the new one refused. */
export type ShedOutcome = 'idle' | 'refused';

export function guardConnections(
  server: Server,
  max: number,
  log: Logger,
  onShed: (outcome: ShedOutcome) => void = () => {},
): void {
  // Map order is connection order, so the first idle entry found is the oldest.
  const sockets = new Map<Socket, Tracked>();

  const idleVictim = (): Socket | undefined => {
    let keptAlive: Socket | undefined;
    for (const [socket, t] of sockets) {
      if (t.inFlight > 0) continue;
      if (!t.served) return socket;
      keptAlive ??= socket;
    }
    return keptAlive;
  };

  // Warned once per run of refusals: a flood must not become a flood of log lines.
  let refusing = false;

  server.on('connection', (socket: Socket) => {
    if (sockets.size >= max) {
      const victim = idleVictim();
      if (victim === undefined) {
        if (!refusing) log.warn({ open: sockets.size }, 'every connection is busy; refusing new ones');
        refusing = true;
        onShed('refused');
        socket.destroy();
        return;
      }
      log.debug({ served: sockets.get(victim)?.served }, 'connections at the cap; closing an idle one');
      sockets.delete(victim);
      onShed('idle');
      victim.destroy();
    }
    refusing = false;
    sockets.set(socket, { inFlight: 0, served: false });
    socket.once('close', () => sockets.delete(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const t = sockets.get(request.socket);
    if (!t) return;
    t.inFlight += 1;
    t.served = true;
    // 'close' fires once the response is done or the socket is gone, streams included.
    response.once('close', () => {
      t.inFlight -= 1;
    });
  });
}
