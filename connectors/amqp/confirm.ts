/**
 * Publishing on a confirm channel: resolves when RabbitMQ confirmed the message (it is on
 * disk for durable queues), rejects with UNROUTABLE when the broker returned it (mandatory
 * flag: no queue is bound for the routing key) and with PUBLISH_REJECTED on a negative
 * confirm. RabbitMQ sends basic.return before the confirm of the same message, so by the
 * time the confirm arrives the message is known to have been returned or not.
 */
import type { ConfirmChannel, Options } from 'amqplib';
import type { Cancellation } from '../../runtime/engine/cancellation.ts';
import { WeftError } from '../../runtime/errors.ts';

export type ConfirmedPublish = (exchange: string, key: string, content: Buffer, options: Options.Publish & { messageId: string }, cancel?: Cancellation) => Promise<void>;

export function confirmedPublisher(ch: ConfirmChannel, endpoint: string | undefined): ConfirmedPublish {
  const returned = new Set<string>();
  ch.on('return', (msg: { properties: { messageId?: string } }) => {
    if (msg.properties.messageId) returned.add(msg.properties.messageId);
  });
  return (exchange, key, content, options, cancel) =>
    new Promise<void>((resolve, reject) => {
      const listener = { cancelled: reject };
      cancel?.listen(listener);
      const where = `exchange '${exchange || '(default)'}' with routing key '${key}'`;
      try {
        ch.publish(exchange, key, content, options, (err: unknown) => {
          cancel?.unlisten(listener);
          const wasReturned = returned.delete(options.messageId);
          if (err) {
            const text = err instanceof Error ? err.message : String(err);
            reject(new WeftError('PUBLISH_REJECTED', `broker did not confirm the message to ${where}: ${text}`, { endpoint, cause: err }));
          } else if (wasReturned) {
            reject(new WeftError('UNROUTABLE', `no queue is bound to ${where}`, { endpoint }));
          } else resolve();
        });
      } catch (err) {
        cancel?.unlisten(listener);
        reject(new WeftError('CONNECTION_RESET', `cannot publish to ${where}: ${(err as Error).message}`, { endpoint, cause: err }));
      }
    });
}
