/** Name -> definition maps for triggers, steps and endpoint kinds; a duplicate is a bug. */
import type { EndpointDef, StepDef, TriggerDef } from './contract.ts';

export class Registry {
  readonly triggers = new Map<string, TriggerDef>();
  readonly steps = new Map<string, StepDef>();
  readonly endpoints = new Map<string, EndpointDef>();

  trigger<C>(def: TriggerDef<C>): this {
    return this.#add(this.triggers, def as unknown as TriggerDef, 'trigger');
  }
  step<C>(def: StepDef<C>): this {
    return this.#add(this.steps, def as unknown as StepDef, 'step');
  }
  endpoint<C>(def: EndpointDef<C>): this {
    return this.#add(this.endpoints, def as unknown as EndpointDef, 'endpoint kind');
  }

  #add<D extends { name: string }>(map: Map<string, D>, def: D, what: string): this {
    if (map.has(def.name)) throw new Error(`duplicate ${what} '${def.name}'`);
    map.set(def.name, def);
    return this;
  }
}
