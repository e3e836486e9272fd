// An in-process MQTT 3.1.1 broker (aedes) on a loopback port, for unit tests of the fleet link. It can be
// stopped and started again on the same port (a broker restart), and records every PUBLISH it receives.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions, type AedesPublishPacket } from 'aedes';

export interface TestBroker {
  port: number;
  url: string;
  /** Every PUBLISH from a client, in arrival order, across restarts. */
  received: { topic: string; payload: string; retain: boolean }[];
  broker(): Aedes;
  /** Drops a client's connection without a DISCONNECT, so its will fires. */
  dropClient(clientId: string): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startBroker(options: AedesOptions = {}, port = 0): Promise<TestBroker> {
  let aedes: Aedes | undefined;
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const clientIds = new Map<Socket, () => string>();
  const received: TestBroker['received'] = [];
  let boundPort = port;

  const start = async (): Promise<void> => {
    const broker = await Aedes.createBroker(options);
    broker.on('publish', (packet: AedesPublishPacket, client) => {
      if (client)
        received.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain });
    });
    const srv = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        clientIds.delete(socket);
      });
      const client = broker.handle(socket);
      clientIds.set(socket, () => client.id);
    });
    await new Promise<void>((res, rej) => {
      srv.once('error', rej);
      srv.listen(boundPort, '127.0.0.1', () => res());
    });
    const addr = srv.address();
    if (addr && typeof addr === 'object') boundPort = addr.port;
    aedes = broker;
    server = srv;
  };

  const stop = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
    await new Promise<void>((res) => (aedes ? aedes.close(() => res()) : res()));
    server = undefined;
    aedes = undefined;
  };

  await start();
  return {
    get port() {
      return boundPort;
    },
    get url() {
      return `mqtt://127.0.0.1:${boundPort}`;
    },
    received,
    broker: () => {
      if (!aedes) throw new Error('broker stopped');
      return aedes;
    },
    dropClient: (clientId) => {
      for (const [socket, id] of clientIds) if (id() === clientId) socket.destroy();
    },
    stop,
    start,
  };
}
