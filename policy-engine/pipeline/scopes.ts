import { BASE, type CompiledDocument, type SectionItem } from './compile.js';
import { SECTION_NAMES, type PolicyStep, type SectionName } from './types.js';

/** The executable pipeline for one (product, API, operation): each section's steps with `<base/>` resolved. */
export interface ComposedPipeline {
  inbound: PolicyStep[];
  backend: PolicyStep[];
  outbound: PolicyStep[];
  'on-error': PolicyStep[];
}

/**
 * `<base/>` in a section is replaced by the same section of the next-broader scope's composed policy;
 * a scope without a document, or a document without the section, behaves as `<base/>` alone.
 * Documents are ordered broad → narrow (global, product, API, operation); missing scopes are skipped.
 */
export function composeScopes(documents: ReadonlyArray<CompiledDocument | undefined>): ComposedPipeline {
  const composed = {} as ComposedPipeline;
  for (const section of SECTION_NAMES) composed[section] = composeSection(documents, section);
  return composed;
}

function composeSection(documents: ReadonlyArray<CompiledDocument | undefined>, section: SectionName): PolicyStep[] {
  let inherited: PolicyStep[] = [];
  for (const doc of documents) {
    if (!doc) continue;
    const items: SectionItem[] | undefined = doc.sections[section];
    if (!items) continue; // no section: inherit unchanged
    const steps: PolicyStep[] = [];
    for (const item of items) {
      if (item === BASE) steps.push(...inherited);
      else steps.push(item);
    }
    inherited = steps;
  }
  return inherited;
}
