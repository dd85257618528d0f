import { policySupportMatrix } from './support-matrix.js';

process.stdout.write(`${policySupportMatrix()}\n`);
