import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema } from '../../src/config/config.schema';

// The chart is checked without helm: its schema, values, examples, files and the shape of its
// templates. `helm lint` and `helm template` run in CI where helm is installed.

const root = join(__dirname, '..', '..');
const chart = join(root, 'helm', 'connect-stream-bridge');
const variables = Object.keys(configSchema.shape);

type Values = Record<string, unknown>;
interface ObjectSchema {
  properties: Record<string, { properties?: Record<string, unknown> }>;
}

const read = (path: string): string => readFileSync(join(chart, path), 'utf8');
const readYaml = (path: string): Values => parse(read(path)) as Values;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function isObject(value: unknown): value is Values {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** Helm's coalescing of a values file over the chart's defaults: maps merge, null deletes. */
function mergeValues(base: Values, override: Values): Values {
  const merged: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete merged[key];
    else if (isObject(value) && isObject(merged[key]))
      merged[key] = mergeValues(merged[key], value);
    else merged[key] = value;
  }
  return merged;
}

/** Every leaf path of a values tree; empty maps and lists are leaves. */
function leafPaths(value: unknown, prefix: string[] = []): string[] {
  if (isObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  return [prefix.join('.')];
}

const schema = JSON.parse(read('values.schema.json')) as ObjectSchema;
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
addFormats(ajv);
const validate: ValidateFunction = ajv.compile(schema);
const errorsOf = (values: unknown): ErrorObject[] =>
  validate(values) ? [] : [...validate.errors!];

const defaults = readYaml('values.yaml');
const examples = readdirSync(join(chart, 'examples')).filter((name) => /\.ya?ml$/.test(name));
const templatesDir = join(chart, 'templates');
const templates = filesUnder(templatesDir).map((path) => ({
  name: relative(templatesDir, path),
  text: readFileSync(path, 'utf8'),
}));
const template = (name: string): string => templates.find((t) => t.name === name)!.text;

const configKeys = Object.keys(schema.properties.config.properties ?? {});
const secretKeys = Object.keys(schema.properties.secrets.properties ?? {});

/** Names of the environment variables the deployment template sets with `env:`. */
function deploymentEnvNames(): string[] {
  const lines = template('deployment.yaml').split('\n');
  const start = lines.findIndex((line) => /^\s*env:\s*$/.test(line));
  if (start < 0) return [];
  const indent = lines[start].search(/\S/);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && line.search(/\S/) <= indent) break;
    block.push(line);
  }
  return [...block.join('\n').matchAll(/-\s+name:\s*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
}

/** Whether the service's configuration schema takes this value of the variable. */
function accepts(name: string, value: string): boolean {
  const shape = configSchema.shape as Record<
    string,
    { safeParse(v: unknown): { success: boolean } }
  >;
  return shape[name].safeParse(value).success;
}

// A suffix, not a substring: REDIS_KEY_PREFIX is no secret.
const secretLike = (name: string): boolean =>
  /(?:^|_)(?:TOKEN|SECRET|KEY|PASSWORD)$/.test(name) || name === 'REDIS_URL';

// --- metric names -------------------------------------------------------------------------

/** Metric names the service registers, read from its sources. */
function registeredMetricNames(): string[] {
  const sources = filesUnder(join(root, 'src')).filter(
    (path) => path.endsWith('.ts') && !path.endsWith('.spec.ts'),
  );
  const names = new Set<string>();
  for (const path of sources) {
    const text = readFileSync(path, 'utf8');
    const patterns = [
      /new\s+(?:Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\s*\{[^}]*?\bname:\s*'([^']+)'/g,
      /\.(?:counter|gauge|histogram|summary)(?:<[^>]*>)?\(\s*'([^']+)'/g,
    ];
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) names.add(match[1]);
    }
  }
  return [...names];
}

/** The service's own csb_* metrics; the dashboard and the alerts rely on every one of them. */
const PLANNED_METRICS = [
  'csb_messages_relayed_total',
  'csb_relay_latency_seconds',
  'csb_connect_api_calls_total',
  'csb_active_conversations',
  'csb_credential_refreshes_total',
  'csb_webhook_rejections_total',
  'csb_queue_jobs',
];

function defaultMetricNames(): string[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const names = registry.getMetricsAsArray().map((metric) => metric.name);
  registry.clear();
  return names;
}

const registered = registeredMetricNames();
const allowed = new Set([...registered, ...PLANNED_METRICS, ...defaultMetricNames()]);

const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Metric names a PromQL expression reads (functions, keywords, labels and strings removed). */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+(?::\w+)?\}?/g, ' ')
    .replace(/\b\d[\w.]*/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = bare.slice(match.index + match[0].length);
    if (/^\s*\(/.test(rest) || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

/** A series name resolved to the metric that exports it (histogram series carry suffixes). */
function baseMetric(name: string): string {
  const base = name.replace(/_(?:bucket|sum|count)$/, '');
  return !allowed.has(name) && allowed.has(base) ? base : name;
}

interface Panel {
  id?: number;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

// --- the specs ----------------------------------------------------------------------------

describe('the Helm chart', () => {
  it('has a Chart.yaml with the required fields', () => {
    const meta = readYaml('Chart.yaml');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(meta).toMatchObject({
      apiVersion: 'v2',
      name: basename(chart),
      type: 'application',
      appVersion: pkg.version,
    });
    expect(meta.version).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
    expect(meta.description).toEqual(expect.any(String));
  });

  it('has only YAML files that parse, outside the templates', () => {
    const files = filesUnder(chart).filter(
      (path) => /\.ya?ml$/.test(path) && !path.startsWith(templatesDir),
    );
    expect(files.map((path) => relative(chart, path))).toEqual(
      expect.arrayContaining(['Chart.yaml', 'values.yaml', join('examples', 'production.yaml')]),
    );
    for (const path of files) {
      const problems = parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) =>
        [...doc.errors, ...doc.warnings].map((e) => `${relative(chart, path)}: ${e.message}`),
      );
      expect(problems).toEqual([]);
    }
  });

  describe('values.schema.json', () => {
    it('accepts values.yaml', () => {
      expect(errorsOf(defaults)).toEqual([]);
    });

    it.each(examples)('accepts examples/%s, alone and merged over values.yaml', (name) => {
      const example = readYaml(join('examples', name));
      expect(errorsOf(example)).toEqual([]);
      expect(errorsOf(mergeValues(defaults, example))).toEqual([]);
    });

    it.each(examples)('finds in examples/%s every value the templates require', (name) => {
      const values = mergeValues(defaults, readYaml(join('examples', name)));
      const required = [...template('configmap.yaml').matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map(
        (m) => m[1],
      );
      expect(required).toEqual(expect.arrayContaining(['AWS_REGION', 'CONNECT_INSTANCE_ID']));
      expect(required.filter((variable) => !at(values, ['config', variable]))).toEqual([]);
      expect(values.existingSecret || at(values, ['secrets', 'REDIS_URL'])).toBeTruthy();
    });

    it('rejects an unknown config variable', () => {
      const errors = errorsOf(mergeValues(defaults, { config: { AWS_REGON: 'us-east-1' } }));
      expect(errors).toEqual([
        expect.objectContaining({
          instancePath: '/config',
          keyword: 'additionalProperties',
          params: { additionalProperty: 'AWS_REGON' },
        }),
      ]);
    });

    it('rejects a secret variable in config', () => {
      const errors = errorsOf(mergeValues(defaults, { config: { TWILIO_AUTH_TOKEN: 'x' } }));
      expect(errors).toEqual([
        expect.objectContaining({ params: { additionalProperty: 'TWILIO_AUTH_TOKEN' } }),
      ]);
    });

    it('rejects an unknown top-level value', () => {
      const errors = errorsOf(mergeValues(defaults, { replicas: 3 }));
      expect(errors).toEqual([
        expect.objectContaining({ instancePath: '', params: { additionalProperty: 'replicas' } }),
      ]);
    });

    it('rejects values of the wrong type or format', () => {
      const errors = errorsOf(
        mergeValues(defaults, {
          replicaCount: 'two',
          config: { INBOUND_CONCURRENCY: 'fifty', AWS_REGION: 'Virginia' },
          ingress: { enabled: 'yes' },
        }),
      );
      expect(errors.map((e) => `${e.instancePath} ${e.keyword}`).sort()).toEqual([
        '/config/AWS_REGION pattern',
        '/config/INBOUND_CONCURRENCY pattern',
        '/ingress/enabled type',
        '/replicaCount type',
      ]);
    });
  });

  describe('environment variables', () => {
    const envNames = deploymentEnvNames();

    it('sets only variables of the configuration schema', () => {
      const unknown = [...configKeys, ...secretKeys, ...envNames].filter(
        (name) => !variables.includes(name),
      );
      expect(unknown).toEqual([]);
      expect(envNames).toContain('PORT');
    });

    it('can set every variable of the configuration schema', () => {
      const settable = new Set([...configKeys, ...secretKeys, ...envNames]);
      expect(variables.filter((name) => !settable.has(name))).toEqual([]);
    });

    it('accepts the values of .env.example that the service accepts', () => {
      const example = readFileSync(join(root, '.env.example'), 'utf8');
      const config: Values = {};
      const secrets: Values = {};
      for (const [, name, value] of example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.+)$/gm)) {
        if (!accepts(name, value)) continue; // a placeholder such as ACxxxx…
        if (configKeys.includes(name)) config[name] = value;
        else if (secretKeys.includes(name)) secrets[name] = value;
      }
      expect(Object.keys(config)).toEqual(expect.arrayContaining(['AWS_REGION', 'SNS_TOPIC_ARNS']));
      expect(errorsOf(mergeValues(defaults, { config, secrets }))).toEqual([]);
    });

    it.each(examples)('passes only values the service accepts from examples/%s', (name) => {
      const values = mergeValues(defaults, readYaml(join('examples', name)));
      const refused = ['config', 'secrets'].flatMap((section) =>
        Object.entries((values[section] ?? {}) as Values)
          .filter(([, value]) => value !== '' && value !== null)
          .filter(([key, value]) => !accepts(key, String(value)))
          .map(([key]) => `${section}.${key}`),
      );
      expect(refused).toEqual([]);
    });

    it('puts every secret-like variable in the Secret, never in the ConfigMap', () => {
      const secrets = variables.filter(secretLike);
      expect(secrets).toEqual(expect.arrayContaining(['REDIS_URL', 'TOKEN_ENCRYPTION_KEY']));
      expect(secrets.filter((name) => !secretKeys.includes(name))).toEqual([]);
      expect(configKeys.filter(secretLike)).toEqual([]);
      expect(envNames.filter(secretLike)).toEqual([]);
      expect(template('configmap.yaml')).not.toMatch(/\.Values\.secrets/);
      expect(Object.keys(defaults.config as Values).filter(secretLike)).toEqual([]);
    });
  });

  describe('shutdown', () => {
    const shutdownDefaultMs = configSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined);

    it("keeps the service's SHUTDOWN_TIMEOUT_MS default", () => {
      expect(at(defaults, ['config', 'SHUTDOWN_TIMEOUT_MS'])).toBe(shutdownDefaultMs);
    });

    it.each(['values.yaml', ...examples.map((name) => join('examples', name))])(
      'gives %s a grace period longer than the preStop sleep plus SHUTDOWN_TIMEOUT_MS',
      (file) => {
        const values = file === 'values.yaml' ? defaults : mergeValues(defaults, readYaml(file));
        const grace = Number(values.terminationGracePeriodSeconds);
        const preStop = Number(values.preStopSleepSeconds);
        const shutdownMs = Number(
          at(values, ['config', 'SHUTDOWN_TIMEOUT_MS']) ?? shutdownDefaultMs,
        );
        expect(grace * 1000).toBeGreaterThan(shutdownDefaultMs);
        // The rule the template enforces with `fail`.
        expect(grace).toBeGreaterThanOrEqual(preStop + Math.ceil(shutdownMs / 1000) + 5);
      },
    );

    it('derives the check in the template from the same values', () => {
      const helpers = template('_helpers.tpl');
      expect(helpers).toMatch(/index \.Values\.config "SHUTDOWN_TIMEOUT_MS" \| default 25000/);
      expect(helpers).toMatch(/\.Values\.preStopSleepSeconds/);
      expect(helpers).toMatch(/\{\{- fail /);
      expect(shutdownDefaultMs).toBe(25_000);
      expect(template('deployment.yaml')).toMatch(
        /terminationGracePeriodSeconds: \{\{ include "csb\.terminationGracePeriodSeconds" \. \}\}/,
      );
    });
  });

  it('runs the pod locked down, with probes and a writable /tmp only', () => {
    expect(defaults.podSecurityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(defaults.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(at(defaults, ['livenessProbe', 'httpGet', 'path'])).toBe('/health/live');
    expect(at(defaults, ['readinessProbe', 'httpGet', 'path'])).toBe('/health/ready');
    expect(at(defaults, ['startupProbe', 'httpGet'])).toBeDefined();
    const deployment = template('deployment.yaml');
    expect(deployment).toMatch(/mountPath: \/tmp/);
    expect(deployment).toMatch(/command: \["sleep", /);
    expect(deployment).toMatch(/checksum\/config: \{\{ include \(print \$\.Template\.BasePath/);
  });

  describe('templates', () => {
    const defined = new Set(
      [...template('_helpers.tpl').matchAll(/define\s+"([^"]+)"/g)].map((m) => m[1]),
    );

    it('have balanced actions and blocks', () => {
      const problems: string[] = [];
      for (const { name, text } of templates) {
        if (text.includes('\t')) problems.push(`${name}: tab`);
        if (text.split('{{').length !== text.split('}}').length) problems.push(`${name}: {{ }}`);
        const stack: string[] = [];
        for (const match of text.matchAll(/\{\{(-?)([\s\S]*?)(-?)\}\}/g)) {
          const [action, left, body, right] = match;
          if (left && !/^\s/.test(body))
            problems.push(`${name}: no space after "{{-" in ${action}`);
          if (right && !/\s$/.test(body))
            problems.push(`${name}: no space before "-}}" in ${action}`);
          if (body.trim().startsWith('/*')) continue;
          const word = /^\s*(\w+)/.exec(body)?.[1];
          if (word && ['if', 'range', 'with', 'define', 'block'].includes(word)) stack.push(word);
          else if (word === 'end' && !stack.pop()) problems.push(`${name}: unmatched ${action}`);
          else if (word === 'else' && stack.length === 0) problems.push(`${name}: stray ${action}`);
        }
        if (stack.length > 0) problems.push(`${name}: unclosed ${stack.join(', ')}`);
      }
      expect(problems).toEqual([]);
    });

    it('include only defined templates', () => {
      const undefinedNames = templates.flatMap(({ name, text }) =>
        [...text.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)]
          .filter((m) => !defined.has(m[1]))
          .map((m) => `${name}: ${m[1]}`),
      );
      expect(undefinedNames).toEqual([]);
    });

    it('read only values that values.yaml has', () => {
      const missing = templates.flatMap(({ name, text }) =>
        [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)]
          .map((m) => m[1].slice(1))
          .filter((path) => at(defaults, path.split('.')) === undefined)
          .map((path) => `${name}: ${path}`),
      );
      expect(missing).toEqual([]);
    });

    it('renders the Prometheus Operator resources only when the API exists', () => {
      for (const name of ['servicemonitor.yaml', 'prometheusrule.yaml']) {
        expect(template(name)).toMatch(
          /\.Capabilities\.APIVersions\.Has "monitoring\.coreos\.com\/v1"/,
        );
      }
    });
  });

  describe('monitoring', () => {
    it('reads metric names out of PromQL', () => {
      expect(
        metricsIn(
          'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job="$job", x=~"y|z"}[$__rate_interval]))) / on (x) group_left (y) b_total offset 5m > bool 0 unless vector(1)',
        ),
      ).toEqual(['a_bucket', 'b_total']);
      expect(baseMetric('http_server_request_duration_seconds_bucket')).toBe(
        'http_server_request_duration_seconds',
      );
    });

    it('finds the metrics the service registers', () => {
      expect(registered).toEqual(
        expect.arrayContaining([
          'http_server_request_duration_seconds',
          'sns_messages_total',
          'connect_stream_events_total',
          'channel_delivery_statuses_total',
          'whatsapp_outside_window_total',
        ]),
      );
    });

    it('has a Grafana dashboard whose queries use only exported metrics', () => {
      const dashboard = JSON.parse(read('files/dashboard.json')) as {
        uid: string;
        panels: Panel[];
        templating: { list: { type: string; query: unknown }[] };
      };
      expect(dashboard.uid).toEqual(expect.any(String));
      const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
      const ids = panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);

      const exprs: string[] = [];
      for (const panel of panels.filter((p) => p.type !== 'row')) {
        const targets = (panel.targets ?? []).map((target) => target.expr ?? '');
        expect(targets.filter((expr) => expr.trim() !== '')).not.toHaveLength(0);
        exprs.push(...targets);
      }
      const used = new Set(exprs.flatMap(metricsIn).map(baseMetric));
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        const query = isObject(variable.query)
          ? String(variable.query.query)
          : String(variable.query);
        const metric = /label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/.exec(query)?.[1];
        if (metric) used.add(baseMetric(metric));
      }
      expect([...used].filter((name) => !allowed.has(name))).toEqual([]);
      expect(PLANNED_METRICS.filter((name) => !used.has(name))).toEqual([]);
    });

    it('has alert rules that use only exported metrics', () => {
      // What is left of the template without its actions: Prometheus's own {{ }} are escaped.
      const stripped = template('prometheusrule.yaml')
        .replace(/\{\{`([\s\S]*?)`\}\}/g, '$1')
        .replace(/\{\{[\s\S]*?\}\}/g, '');
      const resource = parse(stripped) as { spec: { groups: { rules: Values[] }[] } };
      const rules = resource.spec.groups.flatMap((group) => group.rules);
      const byName = new Map(rules.map((rule) => [String(rule.alert), String(rule.expr)]));
      expect([...byName.keys()]).toEqual([
        'ConnectStreamBridgeNoDeliveries',
        'ConnectStreamBridgeRelayFailures',
        'ConnectStreamBridgeQueueBacklog',
        'ConnectStreamBridgeCredentialRefreshFailures',
      ]);
      const metrics = (alert: string) => new Set(metricsIn(byName.get(alert)!).map(baseMetric));
      for (const alert of byName.keys()) {
        expect([...metrics(alert)].filter((name) => !allowed.has(name))).toEqual([]);
      }
      expect(metrics('ConnectStreamBridgeNoDeliveries')).toContain('csb_messages_relayed_total');
      expect(metrics('ConnectStreamBridgeRelayFailures')).toContain('csb_messages_relayed_total');
      expect(metrics('ConnectStreamBridgeQueueBacklog')).toContain('csb_queue_jobs');
      expect(metrics('ConnectStreamBridgeCredentialRefreshFailures')).toContain(
        'csb_credential_refreshes_total',
      );
    });

    it('reads the alert thresholds from the values', () => {
      const rules = template('prometheusrule.yaml');
      for (const alert of [
        'noDeliveries',
        'failureRatio',
        'backlog',
        'credentialRefreshFailures',
      ]) {
        expect(at(defaults, ['metrics', 'prometheusRule', 'alerts', alert, 'enabled'])).toBe(true);
        expect(rules).toContain(`with $rule.alerts.${alert}`);
      }
      expect(rules.match(/> \{\{ \.threshold \}\}/g)).toHaveLength(3);
    });
  });

  it('documents every value in its README', () => {
    const table = read('README.md').split(/^## Values$/m)[1] ?? '';
    const documented = [...table.matchAll(/^\|\s*`([A-Za-z][\w.]*)`\s*\|/gm)].map((m) => m[1]);
    const undocumented = leafPaths(defaults).filter(
      (path) => !documented.some((row) => path === row || path.startsWith(`${row}.`)),
    );
    expect(undocumented).toEqual([]);
    expect(documented.filter((row) => at(defaults, row.split('.')) === undefined)).toEqual([]);
  });
});
