import type { Request, Response, Router } from 'express';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PolicyLoadError } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';
import { ConfigError, wellKnownSubscriptionKey } from '../config/load.js';
import { DeploymentInputError, labDeploymentConfig, readLabParameters, regionDisplayName, resourceSuffix, type LabParameters } from './lab-deployment.js';

/**
 * Resource groups and lab deployments on the control plane (what the `az` stand-in calls). One gateway per
 * emulator: the most recent deployment configures it; every deployment record is kept.
 */
export interface ResourceGroupRecord {
  name: string;
  location: string;
  tags: Record<string, string>;
}

export interface DeploymentRecord {
  resourceGroup: string;
  name: string;
  timestampMs: number;
  templateFile?: string;
  /** The parameters file's object, as read. */
  parametersFile: unknown;
  /** The policy beside the template, before `{backend-id}` substitution. */
  policyXml: string;
  /** The template passes `configureCircuitBreaker: true` to the shared inference-api module. */
  configureCircuitBreaker?: boolean;
}

export interface DeploymentState {
  groups: ResourceGroupRecord[];
  deployments: DeploymentRecord[];
  /** The deployment configuring the gateway (none: the start configuration). */
  active?: { resourceGroup: string; name: string };
  /** Resources deleted one by one (`az resource delete`, `az apim delete`, …); a new deployment creates them again. */
  removed?: RemovedResource[];
}

/** A deleted resource. APIM services and AI services accounts are soft-deleted until purged, as on Azure. */
export interface RemovedResource {
  id: string;
  name: string;
  type: string;
  location: string;
  resourceGroup: string;
  deletionTimeMs: number;
  purged: boolean;
}

export interface DeploymentStore {
  readonly path?: string;
  read(): DeploymentState;
  write(state: DeploymentState): void;
}

export function createMemoryDeploymentStore(): DeploymentStore {
  let state: DeploymentState = { groups: [], deployments: [] };
  return {
    read: () => structuredClone(state),
    write: (next) => void (state = structuredClone(next)),
  };
}

/** Kept in `<data>/deployments.json`, written atomically. */
export function createFileDeploymentStore(path: string): DeploymentStore {
  return {
    path,
    read() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return { groups: [], deployments: [] };
      }
      const state = JSON.parse(text) as DeploymentState;
      return { groups: state.groups ?? [], deployments: state.deployments ?? [], ...(state.active ? { active: state.active } : {}), ...(state.removed ? { removed: state.removed } : {}) };
    },
    write(state) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
      renameSync(`${path}.tmp`, path);
    },
  };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Configures the gateway from the active deployment of a store (at start, with the same data directory). */
export async function applyActiveDeployment(emulator: Emulator, store: DeploymentStore): Promise<DeploymentRecord | undefined> {
  const state = store.read();
  const record = state.active && state.deployments.find((d) => same(d.resourceGroup, state.active!.resourceGroup) && same(d.name, state.active!.name));
  if (!record) return undefined;
  await emulator.reconfigure(configFor(emulator, record, locationOf(state, record.resourceGroup)));
  return record;
}

function locationOf(state: DeploymentState, group: string): string {
  return state.groups.find((g) => same(g.name, group))?.location ?? 'uksouth';
}

function configFor(emulator: Emulator, record: DeploymentRecord, location: string) {
  const params = readLabParameters(record.parametersFile);
  return labDeploymentConfig(params, record.policyXml, resourceSuffix(subscriptionId(emulator), record.resourceGroup), location, templateSettings(record));
}

function templateSettings(record: DeploymentRecord) {
  return record.configureCircuitBreaker ? { configureCircuitBreaker: true } : {};
}

function subscriptionId(emulator: Emulator): string {
  return emulator.config.appInsights.subscriptionId ?? '00000000-0000-0000-0000-000000000000';
}

type Fail = (res: Response, status: number, code: string, message: string) => void;

export function addDeploymentRoutes(router: Router, emulator: Emulator, store: DeploymentStore, fail: Fail): void {
  const sub = () => subscriptionId(emulator);
  const groupId = (name: string) => `/subscriptions/${sub()}/resourceGroups/${name}`;
  const gatewayUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;

  const groupJson = (g: ResourceGroupRecord) => ({
    id: groupId(g.name),
    location: g.location,
    managedBy: null,
    name: g.name,
    properties: { provisioningState: 'Succeeded' },
    tags: g.tags,
    type: 'Microsoft.Resources/resourceGroups',
  });

  const deploymentJson = (req: Request, d: DeploymentRecord, state: DeploymentState) => {
    const params = readLabParameters(d.parametersFile);
    const suffix = resourceSuffix(sub(), d.resourceGroup);
    const ai = emulator.config.appInsights;
    const active = state.active !== undefined && same(state.active.resourceGroup, d.resourceGroup) && same(state.active.name, d.name);
    const keys = new Map(emulator.config.subscriptions.map((s) => [s.name, s.primaryKey]));
    const fromConfig = labDeploymentConfig(params, d.policyXml, suffix, locationOf(state, d.resourceGroup), templateSettings(d));
    const outputs: Record<string, { type: string; value: unknown }> = {
      apimServiceId: { type: 'String', value: `${groupId(d.resourceGroup)}/providers/Microsoft.ApiManagement/service/apim-${suffix}` },
      apimResourceGatewayURL: { type: 'String', value: gatewayUrl(req) },
      apimSubscriptions: {
        type: 'Array',
        // Keys are the well-known ones (32 hex characters) whether or not this deployment is the active one.
        value: (fromConfig.subscriptions ?? []).map((s) => ({ name: s.name, displayName: s.displayName, key: (active && keys.get(s.name)) || wellKnownKey(s.name) })),
      },
      logAnalyticsWorkspaceId: { type: 'String', value: ai.workspaceId },
      applicationInsightsAppId: { type: 'String', value: ai.appId },
      applicationInsightsName: { type: 'String', value: ai.name },
    };
    const parameters = Object.fromEntries(Object.entries((d.parametersFile as { parameters: Record<string, { value: unknown }> }).parameters).map(([k, v]) => [k, { type: typeOf(v.value), value: v.value }]));
    return {
      id: `${groupId(d.resourceGroup)}/providers/Microsoft.Resources/deployments/${d.name}`,
      location: null,
      name: d.name,
      properties: {
        correlationId: resourceSuffix(d.name, String(d.timestampMs)),
        debugSetting: null,
        dependencies: [],
        duration: 'PT0S',
        error: null,
        mode: 'Incremental',
        onErrorDeployment: null,
        outputResources: resourcesOf(d, params, state).map((r) => ({ id: r.id, resourceGroup: d.resourceGroup })),
        outputs,
        parameters,
        parametersLink: null,
        providers: [],
        provisioningState: 'Succeeded',
        templateHash: resourceSuffix(d.policyXml, JSON.stringify(d.parametersFile)),
        templateLink: null,
        timestamp: new Date(d.timestampMs).toISOString(),
        validatedResources: null,
      },
      resourceGroup: d.resourceGroup,
      tags: null,
      type: 'Microsoft.Resources/deployments',
    };
  };

  /** The resources the shared modules would create (for `az resource list`, `cognitiveservices account list`, `apim list`). */
  const resourcesOf = (d: DeploymentRecord, params: LabParameters, state: DeploymentState): LabResource[] => {
    const suffix = resourceSuffix(sub(), d.resourceGroup);
    const rg = groupId(d.resourceGroup);
    const location = locationOf(state, d.resourceGroup);
    const common = { resourceGroup: d.resourceGroup, tags: {} as Record<string, string> };
    const out: LabResource[] = [
      { id: `${rg}/providers/Microsoft.ApiManagement/service/apim-${suffix}`, name: `apim-${suffix}`, type: 'Microsoft.ApiManagement/service', location: regionDisplayName(location), sku: { name: params.apimSku, capacity: 1 }, ...common },
    ];
    for (const s of params.aiServicesConfig) {
      const account = `${s.name}-${suffix}`;
      const accountLocation = s.location ?? location;
      out.push({ id: `${rg}/providers/Microsoft.CognitiveServices/accounts/${account}`, name: account, type: 'Microsoft.CognitiveServices/accounts', location: accountLocation, kind: 'AIServices', sku: { name: 'S0' }, ...common });
      if (params.foundryProjectName) {
        const project = `${params.foundryProjectName}-${s.name}`;
        out.push({ id: `${rg}/providers/Microsoft.CognitiveServices/accounts/${account}/projects/${project}`, name: `${account}/${project}`, type: 'Microsoft.CognitiveServices/accounts/projects', location: accountLocation, ...common });
      }
    }
    return out;
  };

  /** Resources of a group (every group when none is named) that are not deleted. */
  const liveResources = (state: DeploymentState, group?: string): LabResource[] => {
    const gone = new Set((state.removed ?? []).map((r) => r.id.toLowerCase()));
    return state.deployments
      .filter((d) => group === undefined || same(d.resourceGroup, group))
      .flatMap((d) => resourcesOf(d, readLabParameters(d.parametersFile), state))
      .filter((r, i, all) => !gone.has(r.id.toLowerCase()) && all.findIndex((x) => same(x.id, r.id)) === i);
  };

  /** The gateway is the active deployment's APIM service: deleting it (or its group) restores the start configuration. */
  const isActiveApim = (state: DeploymentState, resource: LabResource) =>
    resource.type === 'Microsoft.ApiManagement/service' && state.active !== undefined && same(state.active.resourceGroup, resource.resourceGroup);

  const requireGroup = (res: Response, state: DeploymentState, name: string) => {
    const group = state.groups.find((g) => same(g.name, name));
    if (!group) fail(res, 404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
    return group;
  };

  router.get('/account', (_req, res) => {
    res.json({
      environmentName: 'AzureCloud',
      homeTenantId: TENANT_ID,
      id: sub(),
      isDefault: true,
      managedByTenants: [],
      name: 'AI Gateway Emulator',
      state: 'Enabled',
      tenantId: TENANT_ID,
      user: { name: 'attendee@ai-gateway-emulator.local', type: 'user' },
    });
  });

  router.get('/resource-groups', (_req, res) => {
    res.json(store.read().groups.map(groupJson));
  });
  router.get('/resource-groups/:rg', (req, res) => {
    const group = requireGroup(res, store.read(), req.params.rg!);
    if (group) res.json(groupJson(group));
  });
  router.put('/resource-groups/:rg', (req, res) => {
    const body = (req.body ?? {}) as { location?: unknown; tags?: unknown };
    if (typeof body.location !== 'string' || body.location === '') return fail(res, 400, 'InvalidLocation', 'A resource group needs a location.');
    const state = store.read();
    const name = req.params.rg!;
    const tags = body.tags && typeof body.tags === 'object' ? (body.tags as Record<string, string>) : {};
    const group = { name: state.groups.find((g) => same(g.name, name))?.name ?? name, location: body.location.toLowerCase().replace(/\s+/g, ''), tags };
    state.groups = [...state.groups.filter((g) => !same(g.name, name)), group];
    store.write(state);
    res.json(groupJson(group));
  });
  router.delete('/resource-groups/:rg', async (req, res) => {
    const state = store.read();
    const group = requireGroup(res, state, req.params.rg!);
    if (!group) return;
    const holdsActive = state.active !== undefined && same(state.active.resourceGroup, group.name);
    state.groups = state.groups.filter((g) => g !== group);
    state.deployments = state.deployments.filter((d) => !same(d.resourceGroup, group.name));
    if (holdsActive) {
      delete state.active;
      await emulator.reconfigure();
    }
    store.write(state);
    res.json({ status: 'deleted', name: group.name, gateway: holdsActive ? 'start configuration' : 'unchanged' });
  });
  router.get('/resource-groups/:rg/resources', (req, res) => {
    const state = store.read();
    const group = requireGroup(res, state, req.params.rg!);
    if (!group) return;
    res.json(liveResources(state, group.name));
  });

  // GET /resources?resourceGroup=&resourceType=  (az resource list, cognitiveservices account list, apim list)
  router.get('/resources', (req, res) => {
    const state = store.read();
    const group = typeof req.query.resourceGroup === 'string' ? req.query.resourceGroup : undefined;
    if (group !== undefined && !requireGroup(res, state, group)) return;
    const type = typeof req.query.resourceType === 'string' ? req.query.resourceType : undefined;
    res.json(liveResources(state, group).filter((r) => type === undefined || same(r.type, type)));
  });
  // DELETE /resources?id=<resource id>  (az resource delete --ids, az apim delete, az cognitiveservices account delete)
  router.delete('/resources', async (req, res) => {
    const id = typeof req.query.id === 'string' ? req.query.id : '';
    const state = store.read();
    const resource = liveResources(state).find((r) => same(r.id, id));
    if (!resource) return fail(res, 404, 'ResourceNotFound', `The resource '${id}' was not found.`);
    // Deleting an account deletes its projects with it.
    const gone = liveResources(state).filter((r) => same(r.id, id) || r.id.toLowerCase().startsWith(`${id.toLowerCase()}/`));
    const softDeleted = resource.type === 'Microsoft.ApiManagement/service' || resource.type === 'Microsoft.CognitiveServices/accounts';
    const now = emulator.clock.now();
    state.removed = [
      ...(state.removed ?? []),
      ...gone.map((r) => ({ id: r.id, name: r.name, type: r.type, location: r.location, resourceGroup: r.resourceGroup, deletionTimeMs: now, purged: !(softDeleted && same(r.id, resource.id)) })),
    ];
    if (isActiveApim(state, resource)) {
      delete state.active;
      await emulator.reconfigure();
    }
    store.write(state);
    res.json({ status: 'deleted', id: resource.id, softDeleted });
  });
  // GET /deleted-resources?resourceType=  (az apim deletedservice list, az cognitiveservices account list-deleted)
  router.get('/deleted-resources', (req, res) => {
    const type = typeof req.query.resourceType === 'string' ? req.query.resourceType : undefined;
    res.json((store.read().removed ?? []).filter((r) => !r.purged && (type === undefined || same(r.type, type))).map(deletedJson));
  });
  // POST /deleted-resources/purge { resourceType, name, location? }  (az apim deletedservice purge, … account purge)
  router.post('/deleted-resources/purge', (req, res) => {
    const body = (req.body ?? {}) as { resourceType?: unknown; name?: unknown; location?: unknown };
    if (typeof body.resourceType !== 'string' || typeof body.name !== 'string') return fail(res, 400, 'InvalidRequest', 'Purging needs resourceType and name.');
    const state = store.read();
    const match = (state.removed ?? []).find(
      (r) =>
        !r.purged &&
        same(r.type, body.resourceType as string) &&
        same(r.name, body.name as string) &&
        (typeof body.location !== 'string' || same(regionKey(r.location), regionKey(body.location))),
    );
    if (!match) return fail(res, 404, 'ResourceNotFound', `No deleted ${body.resourceType} named '${body.name}'${typeof body.location === 'string' ? ` in '${body.location}'` : ''} to purge.`);
    match.purged = true;
    store.write(state);
    res.json({ status: 'purged', id: match.id });
  });

  router.get('/deployments/:rg', (req, res) => {
    const state = store.read();
    const group = requireGroup(res, state, req.params.rg!);
    if (group) res.json(state.deployments.filter((d) => same(d.resourceGroup, group.name)).map((d) => deploymentJson(req, d, state)));
  });
  router.get('/deployments/:rg/:name', (req, res) => {
    const state = store.read();
    const group = requireGroup(res, state, req.params.rg!);
    if (!group) return;
    const d = state.deployments.find((x) => same(x.resourceGroup, group.name) && same(x.name, req.params.name!));
    if (!d) return fail(res, 404, 'DeploymentNotFound', `Deployment '${req.params.name}' could not be found.`);
    res.json(deploymentJson(req, d, state));
  });
  // PUT body: { parametersFile: <params.json object>, policyXml: "<policies>…", templateFile?: "…/main.bicep", configureCircuitBreaker?: true }
  router.put('/deployments/:rg/:name', async (req, res) => {
    const state = store.read();
    const group = requireGroup(res, state, req.params.rg!);
    if (!group) return;
    const body = (req.body ?? {}) as { parametersFile?: unknown; policyXml?: unknown; templateFile?: unknown; configureCircuitBreaker?: unknown };
    if (typeof body.policyXml !== 'string' || body.policyXml.trim() === '') return fail(res, 400, 'InvalidTemplate', 'The deployment needs the policy XML (policyXml).');
    const record: DeploymentRecord = {
      resourceGroup: group.name,
      name: req.params.name!,
      timestampMs: emulator.clock.now(),
      ...(typeof body.templateFile === 'string' ? { templateFile: body.templateFile } : {}),
      parametersFile: body.parametersFile,
      policyXml: body.policyXml,
      ...(body.configureCircuitBreaker === true ? { configureCircuitBreaker: true } : {}),
    };
    try {
      await emulator.reconfigure(configFor(emulator, record, group.location));
    } catch (error) {
      if (error instanceof DeploymentInputError || error instanceof ConfigError) return fail(res, 400, 'InvalidTemplate', error.message);
      if (error instanceof PolicyLoadError) return fail(res, 400, 'InvalidPolicy', `The policy failed to load; nothing changed. ${error.message}`);
      throw error;
    }
    state.deployments = [...state.deployments.filter((d) => !(same(d.resourceGroup, group.name) && same(d.name, record.name))), record];
    // Deploying again creates the deleted resources again.
    const created = new Set(resourcesOf(record, readLabParameters(record.parametersFile), state).map((r) => r.id.toLowerCase()));
    state.removed = (state.removed ?? []).filter((r) => !created.has(r.id.toLowerCase()));
    state.active = { resourceGroup: group.name, name: record.name };
    store.write(state);
    res.json(deploymentJson(req, record, state));
  });
  router.delete('/deployments/:rg/:name', async (req, res) => {
    const state = store.read();
    const group = requireGroup(res, state, req.params.rg!);
    if (!group) return;
    const d = state.deployments.find((x) => same(x.resourceGroup, group.name) && same(x.name, req.params.name!));
    if (!d) return fail(res, 404, 'DeploymentNotFound', `Deployment '${req.params.name}' could not be found.`);
    const wasActive = state.active !== undefined && same(state.active.resourceGroup, group.name) && same(state.active.name, d.name);
    state.deployments = state.deployments.filter((x) => x !== d);
    if (wasActive) {
      delete state.active;
      await emulator.reconfigure();
    }
    store.write(state);
    res.json({ status: 'deleted', name: d.name });
  });
}

const TENANT_ID = 'e0e0e0e0-0000-4000-8000-00000000000e';

interface LabResource {
  id: string;
  name: string;
  type: string;
  location: string;
  resourceGroup: string;
  tags: Record<string, string>;
  kind?: string;
  sku?: { name: string; capacity?: number };
}

/** `UK South` and `uksouth` name the same region. */
function regionKey(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}

function deletedJson(r: RemovedResource) {
  return { id: r.id, name: r.name, type: r.type, location: r.location, resourceGroup: r.resourceGroup, deletionDate: new Date(r.deletionTimeMs).toISOString() };
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'number') return 'Int';
  if (typeof value === 'boolean') return 'Bool';
  if (value !== null && typeof value === 'object') return 'Object';
  return 'String';
}

function wellKnownKey(name: string): string {
  return wellKnownSubscriptionKey(name, 'primary');
}
