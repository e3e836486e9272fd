// `npm run docs`: writes the MQTT contract (docs/mqtt.md) generated from the operations catalog.
import { writeFileSync } from 'node:fs';
import { CATALOG } from '../operations/catalog.js';
import { renderMqttContract } from './contract-doc.js';

const text = renderMqttContract(CATALOG);
const out = process.argv[2];
if (out) writeFileSync(out, text);
else process.stdout.write(text);
