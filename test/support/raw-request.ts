import { connect, type Socket } from 'node:net';
import { eventually } from './eventually';

/**
 * An HTTP/1.1 request written by hand on a connection of its own, for what a fetch cannot do: a
 * body sent slowly or never finished, requests pipelined on one connection. Keeps what came back.
 */
export class RawRequest {
  readonly socket: Socket;
  private text = '';

  constructor(base: string, head: string) {
    const url = new URL(base);
    this.socket = connect(Number(url.port), url.hostname);
    this.socket.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.socket.on('error', () => undefined);
    this.socket.write(head);
  }

  get received(): string {
    return this.text;
  }

  /** The status of the answer once one has come (an interim 100 Continue is none). */
  get status(): string | undefined {
    return /HTTP\/1\.1 (?!100)(\d{3})/.exec(this.text)?.[1];
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for "100 Continue" to a request that asked for it: the server has its headers in hand. */
  async continued(): Promise<void> {
    await eventually(() => this.text, { until: (text) => text.includes(' 100 Continue'), what: '100 Continue' });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
