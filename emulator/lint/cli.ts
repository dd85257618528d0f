import { Command, InvalidArgumentError, Option } from 'commander';
import { policySupportMatrix } from '../../policy-engine/index.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { collectPolicyFiles, formatLintReport, LintInputError, lintFiles, type LintContext } from './lint.js';

interface LintOptions {
  namedValue: string[];
  backend: string[];
  placeholder: string[];
  config?: string;
  scope: LintContext['scope'];
  loose: boolean;
  format: 'text' | 'json';
}

function keyValue(flag: string) {
  return (value: string, previous: string[] = []): string[] => {
    const at = value.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`expected NAME=VALUE for ${flag}, got '${value}'`);
    return [...previous, value];
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function split(pair: string): [string, string] {
  const at = pair.indexOf('=');
  return [pair.slice(0, at), pair.slice(at + 1)];
}

/**
 * `ai-gateway-emulator policies lint <file|folder>…`: loads each policy file offline as the emulator would and prints
 * `file:line:column code message` per diagnostic and a summary; exit status 1 when any file is refused, 2 on bad input.
 */
export function addPoliciesLintCommand(program: Command, out: (line: string) => void): void {
  const policies =
    program.commands.find((c) => c.name() === 'policies') ??
    program
      .command('policies')
      .description("Policy tools (lint). Without a subcommand: the support matrix, every policy of Microsoft's policy reference and its status.")
      .action(() => out(policySupportMatrix()));
  policies
    .command('lint')
    .description('Load policy files offline and report every diagnostic (a folder: all its .xml files, recursively).')
    .argument('<paths...>', 'policy files or folders')
    .addOption(new Option('--named-value <name=value>', 'a named value the lab defines (repeatable)').argParser(keyValue('--named-value')).default([]))
    .addOption(new Option('--backend <id>', 'a backend the lab defines (repeatable; id or id=url)').argParser(collect).default([]))
    .addOption(new Option('--placeholder <text=value>', "a Bicep placeholder the lab replaces, e.g. '{backend-id}=foundry1' (repeatable)").argParser(keyValue('--placeholder')).default([]))
    .addOption(new Option('-c, --config <file>', "take namedValues, backends and the APIs' policyPlaceholders from an emulator configuration file"))
    .addOption(new Option('--scope <scope>', 'scope the files load at').choices(['global', 'product', 'api', 'operation']).default('api'))
    .addOption(new Option('--loose', 'unknown policies, named values and backends are warnings, as with start --loose').default(false))
    .addOption(new Option('--format <format>', 'text (file:line:column code message) or json').choices(['text', 'json']).default('text'))
    .action((paths: string[], opts: LintOptions) => {
      try {
        const context: LintContext = { namedValues: {}, backendIds: [], placeholders: {}, scope: opts.scope, strict: !opts.loose };
        if (opts.config) {
          const config = loadConfigFile(opts.config);
          Object.assign(context.namedValues, config.namedValues ?? {});
          context.backendIds.push(...(config.backends ?? []).map((b) => b.id));
          context.fragments = { ...config.fragments };
          for (const api of config.apis ?? []) Object.assign(context.placeholders, api.policyPlaceholders ?? {});
        }
        for (const pair of opts.namedValue) {
          const [name, value] = split(pair);
          context.namedValues[name] = value;
        }
        context.backendIds.push(...opts.backend.map((b) => split(b.includes('=') ? b : `${b}=`)[0]));
        for (const pair of opts.placeholder) {
          const [text, value] = split(pair);
          context.placeholders[text] = value;
        }
        const files = collectPolicyFiles(paths);
        if (files.length === 0) throw new LintInputError(`no .xml files in ${paths.join(', ')}`);
        const report = lintFiles(files, context);
        if (opts.format === 'json') out(JSON.stringify(report, null, 2));
        else for (const line of formatLintReport(report)) out(line);
        process.exitCode = report.summary.refused > 0 ? 1 : 0;
      } catch (error) {
        if (error instanceof LintInputError || error instanceof ConfigError) {
          process.stderr.write(`policies lint: ${error.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw error;
      }
    });
}
