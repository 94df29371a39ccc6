import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { MODULES } from '@apps/service';
import { CONTEXT_CONTRACTS } from '@contracts/contexts';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { declaredContexts } from '@infra/runtime';

/**
 * One convention for event handlers (issue 16, item 4): a context declares what it serves and
 * consumes in `FicusModule.forContext`, one handler a file, named `<what>-on-<event>.handler.ts`
 * after its class `<What>On<Event>`; no module wires a consumer or a contract by hand.
 */

const root = resolve(__dirname, '../..');

const pascal = (kebab: string) => kebab.replace(/(^|-)([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase());
const kebab = (name: string) => name.replace(/(?<!^)(?=[A-Z])/g, '-').toLowerCase();

function sourcesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const moduleSources = sourcesUnder(join(root, 'modules')).filter((file) => !file.includes('/test/'));

describe('event handlers', () => {
  // Loading every context module evaluates its forContext declaration.
  const declared = () => {
    expect(Object.keys(MODULES).sort()).toEqual([...BOUNDED_CONTEXTS].sort());
    return declaredContexts();
  };

  it('every context declares the contract it serves, its own', () => {
    for (const context of BOUNDED_CONTEXTS) {
      const declaration = declared().get(context);
      expect({ context, serves: declaration?.serves?.[0] }).toEqual({
        context,
        serves: CONTEXT_CONTRACTS[context].contract,
      });
    }
  });

  it('each consumed event has a handler named <What>On<Event>, and no event is declared twice by one context', () => {
    for (const [context, declaration] of declared()) {
      const consumes = declaration.consumes ?? [];
      const keys = consumes.map(([event]) => `${event.type}.v${event.version}`);
      expect({ context, duplicates: keys.filter((key, index) => keys.indexOf(key) !== index) }).toEqual({
        context,
        duplicates: [],
      });
      for (const [event, handler] of consumes) {
        const eventName = pascal(event.type.split('.')[1]);
        expect({ event: event.type, handler: handler.name }).toEqual({
          event: event.type,
          handler: expect.stringMatching(new RegExp(`^[A-Z][A-Za-z]*On${eventName}(V\\d+)?$`)),
        });
      }
    }
  });

  it('one event handler a file, the file named after its class, and every handler declared by its context', () => {
    const consumedHandlers = new Set(
      [...declared().values()].flatMap((declaration) =>
        (declaration.consumes ?? []).map(([, handler]) => handler.name),
      ),
    );
    const handlerFiles = moduleSources.filter((file) =>
      /implements IntegrationEventHandler|extends SagaStepListener/.test(readFileSync(file, 'utf8')),
    );
    expect(handlerFiles.length).toBeGreaterThanOrEqual(consumedHandlers.size);
    for (const file of handlerFiles) {
      const classes = [...readFileSync(file, 'utf8').matchAll(/export (?:abstract )?class (\w+)/g)].map(
        (match) => match[1],
      );
      const path = relative(root, file);
      if (classes.length === 1 && classes[0] === 'SagaStepListener') continue; // the base of ordering's saga-step handlers
      expect({ path, classes }).toEqual({ path, classes: [expect.any(String)] });
      expect({ path, file: basename(file) }).toEqual({ path, file: `${kebab(classes[0])}.handler.ts` });
      expect({ path, declared: consumedHandlers.has(classes[0]) }).toEqual({ path, declared: true });
    }
  });

  it('no module wires a consumer or its contract by hand: declared in forContext, wired by the runtime', () => {
    const wiredByHand = moduleSources
      .filter((file) => /\.(consume|serve)\(/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(wiredByHand).toEqual([]);
  });
});
