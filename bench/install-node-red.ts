/** Installs the pinned Node-RED into bench/.cache/node-red (once); used by .ci/run. */
import { ensureNodeRed } from './lib/node-red.ts';

ensureNodeRed();
