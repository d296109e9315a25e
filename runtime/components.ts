/** The built-in triggers, steps and endpoint kinds. Connectors register here and nowhere else. */
import { grpcEndpoint } from '../connectors/grpc/endpoint.ts';
import { httpEndpoint } from '../connectors/http/endpoint.ts';
import { httpTrigger } from '../connectors/http/trigger.ts';
import { soapEndpoint } from '../connectors/soap/endpoint.ts';
import { amqpEndpoint } from '../connectors/amqp/endpoint.ts';
import { amqpTrigger } from '../connectors/amqp/trigger.ts';
import { mqttEndpoint } from '../connectors/mqtt/endpoint.ts';
import { mqttTrigger } from '../connectors/mqtt/trigger.ts';
import { natsEndpoint } from '../connectors/nats/endpoint.ts';
import { natsTrigger } from '../connectors/nats/trigger.ts';
import { thriftEndpoint } from '../connectors/thrift/endpoint.ts';
import { timerTrigger } from '../connectors/timer/trigger.ts';
import { Registry } from './registry.ts';
import { callStep } from './steps/call.ts';
import { choiceStep } from './steps/choice.ts';
import { failStep } from './steps/fail.ts';
import { foreachStep } from './steps/foreach.ts';
import { logStep } from './steps/log.ts';
import { parallelStep } from './steps/parallel.ts';
import { publishStep } from './steps/publish.ts';
import { respondStep } from './steps/respond.ts';
import { setStep } from './steps/set.ts';
import { transformStep } from './steps/transform.ts';
import { tryStep } from './steps/try.ts';
import { validateStep } from './steps/validate.ts';

export function builtInRegistry(): Registry {
  return new Registry()
    .trigger(httpTrigger)
    .endpoint(httpEndpoint)
    .endpoint(soapEndpoint)
    .endpoint(thriftEndpoint)
    .endpoint(grpcEndpoint)
    .step(transformStep)
    .step(setStep)
    .step(validateStep)
    .step(callStep)
    .step(choiceStep)
    .step(respondStep)
    .step(logStep)
    .step(failStep)
    .step(parallelStep)
    .step(foreachStep)
    .step(tryStep)
    .trigger(amqpTrigger)
    .endpoint(amqpEndpoint)
    .trigger(natsTrigger)
    .endpoint(natsEndpoint)
    .trigger(mqttTrigger)
    .endpoint(mqttEndpoint)
    .step(publishStep)
    .trigger(timerTrigger);
}
