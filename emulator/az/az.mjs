// @ts-check
// The `az` stand-in: the Azure CLI commands the AI-Gateway lab notebooks run, answered by a running emulator's
// control plane and query API. Plain JavaScript (no compiler at start-up: a notebook runs it many times).
// Like the real CLI: the result as JSON on stdout, errors as `ERROR: …` on stderr, exit 0 / 1 / 2 (usage) / 3 (not found).
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { dirname, resolve } from 'node:path';
import { formatOutput } from './output.mjs';

export const URL_VARIABLE = 'AI_GATEWAY_EMULATOR_URL';
export const ADMIN_KEY_VARIABLE = 'AI_GATEWAY_EMULATOR_ADMIN_KEY';
const DEFAULT_URL = 'http://127.0.0.1:8080';

/** An error the CLI reports as one `ERROR:` line and an exit code. */
export class CliError extends Error {
  /** @param {string} message @param {number} [exitCode] */
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const usage = (/** @type {string} */ message) => new CliError(message, 2);

/**
 * Options every command accepts (global in the real CLI). Values: `true` for flags.
 * @type {Record<string, { names: string[]; flag?: boolean }>}
 */
const GLOBAL_OPTIONS = {
  output: { names: ['--output', '-o'] },
  query: { names: ['--query'] },
  subscription: { names: ['--subscription'] },
  onlyShowErrors: { names: ['--only-show-errors'], flag: true },
  verbose: { names: ['--verbose'], flag: true },
  debug: { names: ['--debug'], flag: true },
};

const opt = (/** @type {string[]} */ ...names) => ({ names });
const flag = (/** @type {string[]} */ ...names) => ({ names, flag: true });
const RG = opt('--resource-group', '-g');
const YES = flag('--yes', '-y');
const NO_WAIT = flag('--no-wait');

/**
 * @typedef {Record<string, string | string[] | true | undefined>} Args
 * @typedef {{ url: string; headers: Record<string, string>; cwd: string }} Env
 * @typedef {{ options: Record<string, { names: string[]; flag?: boolean }>; run: (args: Args, env: Env) => Promise<unknown> }} Command
 */

/** @type {Record<string, Command>} */
const COMMANDS = {
  'account show': { options: {}, run: (_a, env) => call(env, 'GET', '/_emulator/account') },
  'account list': { options: {}, run: async (_a, env) => [await call(env, 'GET', '/_emulator/account')] },
  'account set': { options: { subscription: opt('--subscription', '--name', '-n', '-s') }, run: async () => undefined },

  'group show': { options: { name: opt('--name', '-n', '--resource-group', '-g') }, run: (a, env) => call(env, 'GET', `/_emulator/resource-groups/${seg(one(a, 'name'))}`) },
  'group exists': {
    options: { name: opt('--name', '-n', '--resource-group', '-g') },
    run: async (a, env) => (await list(env, '/_emulator/resource-groups')).some((g) => same(g.name, one(a, 'name'))),
  },
  'group list': { options: { tag: opt('--tag') }, run: (_a, env) => call(env, 'GET', '/_emulator/resource-groups') },
  'group create': {
    options: { name: opt('--name', '-n', '--resource-group', '-g'), location: opt('--location', '-l'), tags: opt('--tags'), managedBy: opt('--managed-by') },
    run: (a, env) => call(env, 'PUT', `/_emulator/resource-groups/${seg(one(a, 'name'))}`, { location: one(a, 'location'), tags: tags(a.tags) }),
  },
  'group delete': {
    options: { name: opt('--name', '-n', '--resource-group', '-g'), yes: YES, noWait: NO_WAIT, forceDeletionTypes: opt('--force-deletion-types', '-f') },
    run: async (a, env) => void (await call(env, 'DELETE', `/_emulator/resource-groups/${seg(one(a, 'name'))}`)),
  },

  'deployment group create': {
    options: {
      name: opt('--name', '-n'),
      resourceGroup: RG,
      templateFile: opt('--template-file', '-f'),
      parameters: opt('--parameters', '-p'),
      mode: opt('--mode'),
      noWait: NO_WAIT,
      noPrompt: flag('--no-prompt'),
    },
    run: (a, env) => {
      const template = one(a, 'templateFile');
      const name = optional(a, 'name') ?? template.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
      const inputs = readDeploymentInputs(env.cwd, template, many(a.parameters));
      return call(env, 'PUT', `/_emulator/deployments/${seg(one(a, 'resourceGroup'))}/${seg(name)}`, inputs);
    },
  },
  'deployment group show': {
    options: { name: opt('--name', '-n'), resourceGroup: RG },
    run: (a, env) => call(env, 'GET', `/_emulator/deployments/${seg(one(a, 'resourceGroup'))}/${seg(one(a, 'name'))}`),
  },
  'deployment group list': { options: { resourceGroup: RG, filter: opt('--filter') }, run: (a, env) => call(env, 'GET', `/_emulator/deployments/${seg(one(a, 'resourceGroup'))}`) },
  'deployment group delete': {
    options: { name: opt('--name', '-n'), resourceGroup: RG, noWait: NO_WAIT },
    run: async (a, env) => void (await call(env, 'DELETE', `/_emulator/deployments/${seg(one(a, 'resourceGroup'))}/${seg(one(a, 'name'))}`)),
  },

  'monitor app-insights query': {
    options: {
      app: opt('--app', '-a', '--apps'),
      resourceGroup: RG,
      analyticsQuery: opt('--analytics-query', '-q'),
      offset: opt('--offset'),
      startTime: opt('--start-time'),
      endTime: opt('--end-time'),
    },
    run: (a, env) =>
      call(env, 'POST', `/v1/apps/${seg(one(a, 'app'))}/query`, {
        query: one(a, 'analyticsQuery'),
        timespan: timespan(optional(a, 'offset') ?? '1h', optional(a, 'startTime'), optional(a, 'endTime')),
      }),
  },
  'monitor log-analytics query': {
    options: { workspace: opt('--workspace', '-w'), analyticsQuery: opt('--analytics-query'), timespan: opt('--timespan', '-t'), workspaces: opt('--workspaces') },
    run: async (a, env) => {
      const workspaces = many(a.workspaces);
      const body = { query: one(a, 'analyticsQuery'), ...(optional(a, 'timespan') ? { timespan: optional(a, 'timespan') } : {}), ...(workspaces.length ? { workspaces } : {}) };
      return rowObjects(/** @type {any} */ (await call(env, 'POST', `/v1/workspaces/${seg(one(a, 'workspace'))}/query`, body)));
    },
  },

  'resource list': {
    options: { resourceGroup: RG, resourceType: opt('--resource-type'), name: opt('--name', '-n'), location: opt('--location', '-l'), tag: opt('--tag') },
    run: async (a, env) => (await resources(env, optional(a, 'resourceGroup'), optional(a, 'resourceType'))).filter((r) => !a.name || same(r.name, one(a, 'name'))),
  },
  'resource show': {
    options: { ids: opt('--ids'), resourceGroup: RG, name: opt('--name', '-n'), resourceType: opt('--resource-type') },
    run: async (a, env) => {
      const [id] = await resourceIds(a, env);
      return (await resources(env)).find((r) => same(r.id, /** @type {string} */ (id)));
    },
  },
  'resource delete': {
    options: { ids: opt('--ids'), resourceGroup: RG, name: opt('--name', '-n'), resourceType: opt('--resource-type'), noWait: NO_WAIT },
    run: async (a, env) => {
      for (const id of await resourceIds(a, env)) await call(env, 'DELETE', `/_emulator/resources?id=${encodeURIComponent(id)}`);
      return undefined;
    },
  },

  'cognitiveservices account list': {
    options: { resourceGroup: RG },
    run: async (a, env) => (await resources(env, optional(a, 'resourceGroup'), ACCOUNT)).map((r) => cognitiveAccountJson(r, env)),
  },
  'cognitiveservices account show': {
    options: { resourceGroup: RG, name: opt('--name', '-n') },
    run: async (a, env) => cognitiveAccountJson(await named(env, a, ACCOUNT), env),
  },
  'cognitiveservices account delete': {
    options: { resourceGroup: RG, name: opt('--name', '-n') },
    run: async (a, env) => void (await deleteNamed(env, a, ACCOUNT)),
  },
  'cognitiveservices account list-deleted': { options: {}, run: (_a, env) => call(env, 'GET', `/_emulator/deleted-resources?resourceType=${encodeURIComponent(ACCOUNT)}`) },
  'cognitiveservices account purge': {
    options: { resourceGroup: RG, name: opt('--name', '-n'), location: opt('--location', '-l') },
    run: async (a, env) => void (await purge(env, ACCOUNT, one(a, 'name'), optional(a, 'location'))),
  },

  'apim list': { options: { resourceGroup: RG }, run: async (a, env) => (await resources(env, optional(a, 'resourceGroup'), APIM)).map((r) => apimJson(r, env)) },
  'apim show': { options: { resourceGroup: RG, name: opt('--name', '-n') }, run: async (a, env) => apimJson(await named(env, a, APIM), env) },
  'apim delete': { options: { resourceGroup: RG, name: opt('--name', '-n'), yes: YES, noWait: NO_WAIT }, run: async (a, env) => void (await deleteNamed(env, a, APIM)) },
  'apim deletedservice list': { options: {}, run: (_a, env) => call(env, 'GET', `/_emulator/deleted-resources?resourceType=${encodeURIComponent(APIM)}`) },
  'apim deletedservice purge': {
    options: { serviceName: opt('--service-name', '-n'), location: opt('--location', '-l'), noWait: NO_WAIT },
    run: async (a, env) => void (await purge(env, APIM, one(a, 'serviceName'), optional(a, 'location'))),
  },

  // The two seed labs create no key vault: the lists are empty and deleting one says it does not exist.
  'keyvault list': { options: { resourceGroup: RG, resourceType: opt('--resource-type') }, run: async (a, env) => resources(env, optional(a, 'resourceGroup'), KEY_VAULT) },
  'keyvault delete': { options: { resourceGroup: RG, name: opt('--name', '-n') }, run: async (a, env) => void (await deleteNamed(env, a, KEY_VAULT)) },
  'keyvault purge': {
    options: { name: opt('--name', '-n'), location: opt('--location', '-l'), noWait: NO_WAIT },
    run: async (a, env) => void (await purge(env, KEY_VAULT, one(a, 'name'), optional(a, 'location'))),
  },
};

const APIM = 'Microsoft.ApiManagement/service';
const ACCOUNT = 'Microsoft.CognitiveServices/accounts';
const KEY_VAULT = 'Microsoft.KeyVault/vaults';

const same = (/** @type {string} */ a, /** @type {string} */ b) => a.toLowerCase() === b.toLowerCase();
const seg = encodeURIComponent;

/** @param {Args} args @param {string} key */
function optional(args, key) {
  const v = args[key];
  if (v === undefined) return undefined;
  if (v === true) return '';
  return Array.isArray(v) ? v.join(' ') : v;
}

/** @param {Args} args @param {string} key */
function one(args, key) {
  const v = optional(args, key);
  if (v === undefined || v === '') throw usage(`the following arguments are required: ${args[`__name:${key}`]}`);
  return v;
}

/** @param {string | string[] | true | undefined} v */
function many(v) {
  return v === undefined || v === true ? [] : Array.isArray(v) ? v : [v];
}

/** `--tags a=b c=d` → `{ a: 'b', c: 'd' }` (a bare `a` is `a: ''`). @param {string | string[] | true | undefined} v */
function tags(v) {
  return Object.fromEntries(many(v).map((t) => (t.includes('=') ? [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] : [t, ''])));
}

/**
 * The query timespan, as the real CLI builds it: `--start-time`/`--end-time`, else `--offset` back from now. `1h`,
 * `30m`, `1d2h` or an ISO 8601 duration. Without a start or end time the emulator's clock decides "now".
 * @param {string} offset @param {string | undefined} start @param {string | undefined} end
 */
export function timespan(offset, start, end) {
  if (start && end) return `${start}/${end}`;
  const duration = isoDuration(offset);
  if (start) return `${start}/${duration}`;
  if (end) return `${duration}/${end}`;
  return duration;
}

/** @param {string} offset */
function isoDuration(offset) {
  if (/^P/i.test(offset)) return offset.toUpperCase();
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/i.exec(offset.trim());
  if (!m || offset.trim() === '') throw usage(`argument --offset: invalid offset '${offset}' (use ##d##h##m, e.g. 1h, or an ISO 8601 duration)`);
  const [, d, h, min] = m;
  const time = `${h ? `${h}H` : ''}${min ? `${min}M` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : ''}`;
}

/**
 * What `deployment group create` sends: the parameters (files, `@file`, inline JSON, `name=value` overrides, in
 * order) and the policy the template loads. Bicep is not evaluated: the template is only searched for the policy
 * file it loads (`loadTextContent('….xml')`, else `policy.xml` beside it); a `policyXml` parameter wins, as in labs
 * that pass the policy through the parameters.
 * @param {string} cwd @param {string} template @param {string[]} parameterArgs
 */
export function readDeploymentInputs(cwd, template, parameterArgs) {
  const templatePath = resolve(cwd, template);
  if (!existsSync(templatePath)) throw new CliError(`Template file '${template}' not found (looked at ${templatePath}).`);
  /** @type {{ $schema?: string; contentVersion?: string; parameters: Record<string, unknown> }} */
  let parametersFile = { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#', contentVersion: '1.0.0.0', parameters: {} };
  for (const arg of parameterArgs) {
    if (/^[A-Za-z_][\w-]*=/.test(arg) && !existsSync(resolve(cwd, arg))) {
      const at = arg.indexOf('=');
      const raw = arg.slice(at + 1);
      let value;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      parametersFile.parameters[arg.slice(0, at)] = { value };
      continue;
    }
    const inline = arg.trimStart().startsWith('{');
    const path = inline ? '' : resolve(cwd, arg.replace(/^@/, ''));
    let text;
    if (inline) text = arg;
    else {
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        throw new CliError(`Parameters file '${arg}' not found (looked at ${path}).`);
      }
    }
    let parsed;
    try {
      parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      throw new CliError(`Failed to parse the parameters ${inline ? 'argument' : `file '${arg}'`}: ${error instanceof Error ? error.message : String(error)}. Nothing was deployed.`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`The parameters ${inline ? 'argument' : `file '${arg}'`} must hold a JSON object. Nothing was deployed.`);
    const entries = 'parameters' in parsed && typeof parsed.parameters === 'object' && parsed.parameters !== null ? parsed.parameters : parsed;
    parametersFile = { ...parametersFile, ...('$schema' in parsed ? { $schema: parsed.$schema } : {}), parameters: { ...parametersFile.parameters, ...entries } };
  }
  const templateText = readFileSync(templatePath, 'utf8');
  // The shared inference-api module sets a circuit breaker on every backend when the template asks for one.
  const breaker = /configureCircuitBreaker:\s*true\b/.test(templateText) ? { configureCircuitBreaker: true } : {};
  const fromParameters = /** @type {{ value?: unknown } | undefined} */ (parametersFile.parameters.policyXml)?.value;
  if (typeof fromParameters === 'string' && fromParameters.trim() !== '') return { parametersFile, policyXml: fromParameters, templateFile: templatePath, ...breaker };
  const loaded = /loadTextContent\(\s*'([^']+\.xml)'\s*\)/.exec(templateText)?.[1];
  const policyPath = resolve(dirname(templatePath), loaded ?? 'policy.xml');
  if (!existsSync(policyPath)) {
    throw new CliError(`No policy beside the template: ${policyPath} does not exist (the lab's Bicep loads its policy.xml). Nothing was deployed.`);
  }
  return { parametersFile, policyXml: readFileSync(policyPath, 'utf8'), templateFile: templatePath, ...breaker };
}

/** Log Analytics rows as the CLI prints them: one object per row, values as strings, plus `TableName`. @param {{ tables: Array<{ name: string; columns: Array<{ name: string }>; rows: unknown[][] }> }} result */
export function rowObjects(result) {
  return result.tables.flatMap((t) =>
    t.rows.map((row) => ({
      ...Object.fromEntries(t.columns.map((c, i) => [c.name, row[i] === null || row[i] === undefined ? null : typeof row[i] === 'object' ? JSON.stringify(row[i]) : String(row[i])])),
      TableName: t.name,
    })),
  );
}

/** @param {Env} env @param {string} [group] @param {string} [type] @returns {Promise<any[]>} */
async function resources(env, group, type) {
  const query = new URLSearchParams({ ...(group ? { resourceGroup: group } : {}), ...(type ? { resourceType: type } : {}) });
  return list(env, `/_emulator/resources${query.size ? `?${query}` : ''}`);
}

/** @param {Env} env @param {string} path @returns {Promise<any[]>} */
async function list(env, path) {
  return /** @type {any[]} */ (await call(env, 'GET', path));
}

/** @param {Args} a @param {Env} env */
async function resourceIds(a, env) {
  const ids = many(a.ids).flatMap((id) => id.split(/\s+/)).filter(Boolean);
  if (ids.length) return ids;
  const found = (await resources(env, one(a, 'resourceGroup'), optional(a, 'resourceType'))).filter((r) => same(r.name, one(a, 'name')));
  if (!found.length) throw new CliError(`(ResourceNotFound) The Resource '${one(a, 'name')}' under resource group '${one(a, 'resourceGroup')}' was not found.`, 3);
  return found.map((r) => /** @type {string} */ (r.id));
}

/** @param {Env} env @param {Args} a @param {string} type */
async function named(env, a, type) {
  const found = (await resources(env, one(a, 'resourceGroup'), type)).find((r) => same(r.name, one(a, 'name')));
  if (!found) throw new CliError(`(ResourceNotFound) The Resource '${type}/${one(a, 'name')}' under resource group '${one(a, 'resourceGroup')}' was not found.`, 3);
  return found;
}

/** @param {Env} env @param {Args} a @param {string} type */
async function deleteNamed(env, a, type) {
  const found = await named(env, a, type);
  await call(env, 'DELETE', `/_emulator/resources?id=${encodeURIComponent(found.id)}`);
}

/** @param {Env} env @param {string} type @param {string} name @param {string | undefined} location */
async function purge(env, type, name, location) {
  await call(env, 'POST', '/_emulator/deleted-resources/purge', { resourceType: type, name, ...(location ? { location } : {}) });
}

/** @param {any} r @param {Env} env */
function cognitiveAccountJson(r, env) {
  return {
    id: r.id,
    kind: r.kind ?? 'AIServices',
    location: r.location,
    name: r.name,
    properties: { endpoint: `${env.url}/`, provisioningState: 'Succeeded', publicNetworkAccess: 'Enabled' },
    resourceGroup: r.resourceGroup,
    sku: r.sku ?? { name: 'S0' },
    tags: r.tags ?? {},
    type: r.type,
  };
}

/** @param {any} r @param {Env} env */
function apimJson(r, env) {
  return {
    gatewayUrl: env.url,
    id: r.id,
    location: r.location,
    name: r.name,
    provisioningState: 'Succeeded',
    publisherEmail: 'noreply@ai-gateway-emulator.local',
    publisherName: 'AI Gateway Emulator',
    resourceGroup: r.resourceGroup,
    sku: r.sku,
    tags: r.tags ?? {},
    type: r.type,
  };
}

/**
 * One request to the emulator. Its `{ error: { code, message } }` (control plane) or App Insights error body
 * becomes `ERROR: (Code) message`, exit 3 for "not found" as the real CLI.
 * @param {Env} env @param {string} method @param {string} path @param {unknown} [body]
 */
async function call(env, method, path, body) {
  let response;
  try {
    response = await send(`${env.url}${path}`, method, { ...env.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body === undefined ? undefined : JSON.stringify(body));
  } catch (error) {
    const cause = /** @type {{ code?: string }} */ (error).code ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`cannot reach the AI Gateway emulator at ${env.url} (${cause}): start it with 'npx ai-gateway-emulator', or set ${URL_VARIABLE} to its URL.`);
  }
  const text = response.text;
  /** @type {any} */
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (response.status >= 400) {
    const error = json?.error ?? {};
    const code = error.code ?? response.statusText;
    const message = error.message ?? (text || `HTTP ${response.status}`);
    const notFound = response.status === 404 && path.startsWith('/_emulator/') && code !== 'NotFound';
    if (response.status === 404 && code === 'NotFound') throw new CliError(`this emulator has no ${method} ${path.split('?')[0]}: it is older than this az stand-in, or ${env.url} is not an AI Gateway emulator.`);
    throw new CliError(`(${code}) ${message}`, notFound ? 3 : 1);
  }
  return json;
}

/**
 * One HTTP exchange with node:http (fetch would load undici: ~140 ms more per command on Node 20).
 * @param {string} url @param {string} method @param {Record<string, string>} headers @param {string | undefined} body
 * @returns {Promise<{ status: number; statusText: string; text: string }>}
 */
function send(url, method, headers, body) {
  return new Promise((resolveResponse, reject) => {
    const target = new URL(url);
    const req = (target.protocol === 'https:' ? requestTls : request)(target, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks = /** @type {Buffer[]} */ ([]);
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Splits argv into the command words and its options. Options take every following word up to the next option
 * (`--ids a b`, `--tags k=v k2=v2`); `--name=value` works too.
 * @param {string[]} argv
 */
export function parse(argv) {
  const words = [];
  let i = 0;
  while (i < argv.length && !argv[i].startsWith('-')) words.push(argv[i++]);
  /** @type {Array<[string, string[]]>} */
  const raw = [];
  for (; i < argv.length; i++) {
    const token = argv[i];
    if (token.startsWith('-') && !/^-\d/.test(token)) {
      const eq = token.startsWith('--') ? token.indexOf('=') : -1;
      raw.push(eq > 0 ? [token.slice(0, eq), [token.slice(eq + 1)]] : [token, []]);
    } else if (raw.length) raw[raw.length - 1][1].push(token);
    else words.push(token);
  }
  return { words, raw };
}

/** @param {string[]} words */
function findCommand(words) {
  for (let n = Math.min(words.length, 4); n > 0; n--) {
    const key = words.slice(0, n).join(' ');
    if (COMMANDS[key]) return { key, command: COMMANDS[key], rest: words.slice(n) };
  }
  return undefined;
}

export const EMULATED_COMMANDS = Object.keys(COMMANDS);

/**
 * Runs one command line. Returns what the process should print and its exit code (nothing is written here, so
 * tests and the bin script share it).
 * @param {string[]} argv @param {{ env?: NodeJS.ProcessEnv; cwd?: string }} [context]
 * @returns {Promise<{ stdout: string; stderr: string; exitCode: number }>}
 */
export async function runAz(argv, context = {}) {
  const processEnv = context.env ?? process.env;
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') return { stdout: help(), stderr: '', exitCode: 0 };
    if (argv[0] === 'version' || argv[0] === '--version') return { stdout: formatOutput({ 'azure-cli': '2.87.0', 'ai-gateway-emulator': 'stand-in', extensions: {} }, 'json'), stderr: '', exitCode: 0 };
    const { words, raw } = parse(argv);
    const found = findCommand(words);
    if (!found || found.rest.length) throw usage(`'az ${words.join(' ')}' is not emulated by the AI Gateway emulator's az stand-in; 'az --help' lists the emulated commands.`);
    const spec = { ...GLOBAL_OPTIONS, ...found.command.options };
    /** @type {Args} */
    const args = Object.fromEntries(Object.entries(spec).map(([key, o]) => [`__name:${key}`, o.names[0]]));
    for (const [name, values] of raw) {
      const entry = Object.entries(spec).find(([, o]) => o.names.includes(name));
      if (!entry) throw usage(`unrecognized arguments: ${name} (not emulated for 'az ${found.key}')`);
      const [key, o] = entry;
      if (o.flag) {
        if (values.length) throw usage(`unrecognized arguments: ${values.join(' ')}`);
        args[key] = true;
      } else {
        if (values.length === 0) throw usage(`argument ${name}: expected one argument`);
        args[key] = values.length === 1 ? values[0] : values;
      }
    }
    const output = optional(args, 'output') ?? 'json';
    if (!['json', 'jsonc', 'tsv', 'table', 'none', 'yaml', 'yamlc'].includes(output)) throw usage(`argument --output/-o: invalid choice: '${output}' (choose from 'json', 'jsonc', 'none', 'table', 'tsv', 'yaml', 'yamlc')`);
    if (output === 'yaml' || output === 'yamlc') throw usage(`argument --output/-o: '${output}' is not emulated (use json, jsonc, tsv, table or none)`);
    const adminKey = processEnv[ADMIN_KEY_VARIABLE];
    /** @type {Env} */
    const env = {
      url: (processEnv[URL_VARIABLE] || DEFAULT_URL).replace(/\/+$/, ''),
      headers: adminKey ? { 'x-emulator-admin-key': adminKey } : {},
      cwd: context.cwd ?? process.cwd(),
    };
    let result = await found.command.run(args, env);
    const query = optional(args, 'query');
    if (query !== undefined && result !== undefined) {
      const { default: jmespath } = await import('jmespath');
      try {
        result = jmespath.search(result, query);
      } catch (error) {
        throw usage(`argument --query: invalid jmespath query supplied for '--query': ${query} (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    return { stdout: formatOutput(result, output), stderr: '', exitCode: 0 };
  } catch (error) {
    if (error instanceof CliError) return { stdout: '', stderr: `ERROR: ${error.message}\n`, exitCode: error.exitCode };
    return { stdout: '', stderr: `ERROR: ${error instanceof Error ? error.message : String(error)}\n`, exitCode: 1 };
  }
}

function help() {
  return [
    'az (AI Gateway emulator stand-in): the Azure CLI commands the AI-Gateway labs run, answered by a local emulator.',
    `Emulator: ${URL_VARIABLE} (default ${DEFAULT_URL}).`,
    '',
    'Commands:',
    ...EMULATED_COMMANDS.map((c) => `  az ${c}`),
    '',
    'Global options: -o/--output json|jsonc|tsv|table|none, --query <JMESPath>.',
    '',
  ].join('\n');
}
