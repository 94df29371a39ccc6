/**
 * The boundaries of ficus (see docs DESIGN "The one rule" and STYLE habits 1, 2 and 10).
 *
 * Every `path` below is relative to the folder dependency-cruiser runs from (the repository root,
 * or a fixture root in test/architecture). Package paths are matched without a leading `^`
 * because a fixture outside the root sees them as `../../../node_modules/...`.
 *
 * Type-only imports count (`tsPreCompilationDeps: true`): `import type` of another module's
 * internals couples the code just as much as a value import does.
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'module-imports-other-module',
      severity: 'error',
      comment:
        'A module reaches into another module. Modules talk only through contracts: import the ' +
        "other context's messages and token from @contracts/<context>, inject the token, and let the " +
        'bus carry the call. If both need a type, move it into contracts/<context> (or ' +
        'contracts/kernel when it has no business meaning).',
      from: { path: '^modules/([^/]+)/' },
      to: { path: '^modules/', pathNot: '^modules/$1/' },
    },
    {
      name: 'module-imports-app',
      severity: 'error',
      comment:
        'A module imports from apps/. Apps compose modules, never the other way round: move what ' +
        'the module needs into the module itself, into infra/ (machinery) or into contracts/ (messages).',
      from: { path: '^modules/' },
      to: { path: '^apps/' },
    },
    {
      name: 'module-reaches-deployment',
      severity: 'error',
      comment:
        'An import path from a module leads to infra/topology or infra/host (barrels included). ' +
        'Modules are written once and run in any topology; only the host side (apps/, infra/host) ' +
        'knows where they run. Import the module-facing runtime (@infra/runtime) and keep what it ' +
        'exports free of the host side: move process wiring, topology and servers to infra/host.',
      from: { path: '^modules/' },
      to: { path: '^infra/(topology|host)/', reachable: true },
    },
    {
      name: 'contract-imports-implementation',
      severity: 'error',
      comment:
        'A contract imports modules/, infra/ or apps/. Contracts are the published API: they may ' +
        'import only other contracts, contracts/kernel, zod and node builtins. Declare the type in ' +
        'the contract (a zod schema) and let the module map to and from it.',
      from: { path: '^contracts/' },
      to: { path: '^(modules|infra|apps)/' },
    },
    {
      name: 'contract-imports-package-other-than-zod',
      severity: 'error',
      comment:
        'A contract imports an npm package other than zod. Contracts are shared by every deploy ' +
        'target and must stay framework-free: no Nest, no ORM. Express the shape with zod and keep ' +
        'framework glue (tokens providers, decorators) in infra/ or in the module. Only the ' +
        'protobuf codecs generated from the .proto files (contracts/generated) use @bufbuild/protobuf.',
      from: { path: '^contracts/', pathNot: '^contracts/generated/' },
      to: { path: 'node_modules/', pathNot: 'node_modules/zod/' },
    },
    {
      name: 'generated-contract-code-imports-more-than-protobuf',
      severity: 'error',
      comment:
        'Generated contract code (buf generate, ts-proto with generic definitions) may use only ' +
        '@bufbuild/protobuf: check buf.gen.yaml options (outputServices=generic-definitions).',
      from: { path: '^contracts/generated/' },
      to: { path: 'node_modules/', pathNot: 'node_modules/@bufbuild/protobuf/' },
    },
    {
      name: 'infra-imports-module-or-app',
      severity: 'error',
      comment:
        'infra/ imports modules/ or apps/. Infra is machinery below the modules: invert the ' +
        'dependency (infra declares an interface or token, the module or app provides it).',
      from: { path: '^infra/' },
      to: { path: '^(modules|apps)/' },
    },
    {
      name: 'infra-imports-business-contract',
      severity: 'error',
      comment:
        'infra/ imports a business contract. Infra has no business words: it may use only ' +
        'contracts/kernel (envelope, ids, call context, errors). Make the code generic over ' +
        'Contract/EventDefinition and let the app or module pass the concrete contract in.',
      from: { path: '^infra/' },
      to: { path: '^contracts/', pathNot: '^contracts/kernel/' },
    },
    {
      name: 'app-imports-module-internals',
      severity: 'error',
      comment:
        "An app reaches past a module's entry. Apps import a module only as @modules/<context> " +
        '(modules/<context>/src/index.ts, which exports its Nest module). Export what the app ' +
        'needs from that index.ts, or, better, reach it through the contract.',
      from: { path: '^apps/' },
      to: { path: '^modules/', pathNot: '^modules/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'domain-imports-framework-or-infra',
      severity: 'error',
      comment:
        'A domain file imports Nest, TypeORM, pg or infra/. The domain is plain TypeScript so ' +
        'that its unit tests need no Nest and no database: move the framework code to ' +
        'application/ or persistence/ and have it call the domain (map entities to aggregates there).',
      from: { path: '^modules/[^/]+/src/domain/' },
      to: {
        path: ['node_modules/(@types/)?(@nestjs/|typeorm/|pg/)', '^infra/'],
      },
    },
    {
      name: 'domain-imports-outer-layer',
      severity: 'error',
      comment:
        "A domain file imports its own module's application/, persistence/ or wiring. The " +
        'domain is the innermost layer: outer layers depend on it, never the reverse. Define an ' +
        'interface (a port) in domain/ and implement it in application/ or persistence/.',
      from: { path: '^modules/([^/]+)/src/domain/' },
      to: { path: '^modules/$1/src/(?!domain/)' },
    },
    {
      name: 'no-circular-in-module',
      severity: 'error',
      comment:
        'A cycle between files of a module. Cycles make load order fragile (undefined at import ' +
        'time, broken Nest DI) and hide layering: move the shared piece into its own file, or ' +
        'depend on an interface instead of the implementation.',
      from: { path: '^modules/' },
      to: { circular: true },
    },
    {
      name: 'import-unresolvable',
      severity: 'error',
      comment:
        'An import that cannot be resolved to a file. Besides failing at run time, it escapes ' +
        'every boundary rule above: fix the path, the path alias in tsconfig.json, or add the ' +
        'missing package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
