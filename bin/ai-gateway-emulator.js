#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step, always in sync with the code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../emulator/main.ts');
await main(process.argv);
