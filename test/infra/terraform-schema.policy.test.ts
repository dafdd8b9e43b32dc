import { beforeAll, describe, expect, it } from 'vitest';
import { blocksOf, type TfTree } from '../support/infra/hcl.js';
import { movedErrors, moduleErrors, referenceErrors, schemaErrors, treeFromTexts, variableErrors } from '../support/infra/checks.js';
import { ENVS, loadTree, moduleCallTree, moduleFiles, providerSchema, tfvars, unwrap, variables, type ProviderSchema } from '../support/infra/model.js';

/**
 * What `terraform validate` would check, without terraform: every .tf file parses (HashiCorp's HCL2
 * parser as WASM), every type, argument, block and attribute reference exists in the pinned google
 * provider's schema (derived from @cdktf/provider-google: schema/README.md), variables and module
 * interfaces line up, and dev and prod are the same modules.
 */
let tree: TfTree;
let schema: ProviderSchema;
beforeAll(async () => {
  tree = await loadTree();
  schema = providerSchema();
});

describe('terraform parses and matches the pinned google provider schema', () => {
  it('parses every .tf file and finds both environments and every module', () => {
    expect(tree.files.length).toBeGreaterThan(20);
    for (const env of ENVS) expect(tree.modules.has(`envs/${env}`)).toBe(true);
    for (const mod of ['network', 'cloudsql', 'firestore', 'bigquery', 'kms', 'functions', 'scheduler', 'secrets', 'project', 'cicd']) {
      const files = moduleFiles(tree, `modules/${mod}`).map((f) => f.path.split('/').pop());
      expect(files, mod).toEqual(expect.arrayContaining(['main.tf', 'variables.tf', 'outputs.tf']));
    }
  });

  it('pins the google provider to exactly the version the schema was derived from', () => {
    for (const env of ENVS) {
      const terraform = blocksOf(moduleFiles(tree, `envs/${env}`), 'terraform')[0]?.body;
      const google = terraform?.required_providers?.[0]?.google;
      expect(google, env).toEqual({ source: 'hashicorp/google', version: schema.provider.version });
      expect(`registry.terraform.io/${google.source}`).toBe(schema.provider.source);
      // google-beta (beta-only types) and time (time_sleep), pinned to the releases their schemas come from
      for (const [name, other] of Object.entries(schema.others ?? {})) {
        const pinned = terraform?.required_providers?.[0]?.[name];
        expect(pinned, `${env} ${name}`).toEqual({ source: other.provider.source.replace('registry.terraform.io/', ''), version: other.provider.version });
      }
    }
    expect(Object.keys(schema.others ?? {}).sort()).toEqual(['google-beta', 'time']);
    // google and google-beta move together: the same release of the same provider
    expect(schema.others!['google-beta']!.provider.version).toBe(schema.provider.version);
  });

  it('uses only resource and data types, arguments and blocks that exist in the provider', () => {
    expect(blocksOf(tree.files, 'resource').length).toBeGreaterThan(50);
    expect(schemaErrors(tree, schema)).toEqual([]);
  });

  it('references only declared resources and attributes that exist', () => {
    expect(referenceErrors(tree, schema)).toEqual([]);
  });

  it('declares every variable it uses and uses every variable it declares, each with a type and a description', () => {
    expect(variableErrors(tree)).toEqual([]);
  });

  it('passes every module exactly its declared variables (all required ones) and reads only outputs that exist', () => {
    expect(moduleErrors(tree)).toEqual([]);
  });

  it('moves state only to addresses that exist, from addresses that no longer do', () => {
    expect(movedErrors(tree)).toEqual([]);
  });

  it('validates what operators set: every environment variable has a validation block, and modules validate too', () => {
    // A root variable is validated where it is declared, or by the module variable it is passed to unchanged.
    const validated = (module: string, name: string, env: string): boolean => {
      if (variables(tree, module).get(name)?.validation?.length) return true;
      return moduleCallTree(tree, env)
        .filter((c) => c.caller === module)
        .some((c) => Object.entries<any>(c.body).some(([input, v]) => unwrap(v) === `var.${name}` && validated(c.target, input, env)));
    };
    for (const env of ENVS) {
      const missing = [...variables(tree, `envs/${env}`).keys()].filter((name) => !validated(`envs/${env}`, name, env));
      expect(missing, env).toEqual([]);
    }
    const moduleValidations = [...tree.modules.keys()]
      .filter((m) => m.startsWith('modules/'))
      .flatMap((m) => [...variables(tree, m).values()])
      .filter((v) => v.validation?.length);
    expect(moduleValidations.length).toBeGreaterThan(20);
  });

  it('dev and prod call the same modules with the same inputs; only terraform.tfvars differ', async () => {
    // Through the composition module: envs/<env> → modules/platform → every module.
    const [dev, prod] = ENVS.map((env) => moduleCallTree(tree, env));
    expect(dev!.map((c) => c.name).sort()).toEqual(prod!.map((c) => c.name).sort());
    expect(dev!.length).toBeGreaterThanOrEqual(9);
    for (const call of dev!) {
      const other = prod!.find((c) => c.name === call.name)!;
      expect(other.body, call.name).toEqual(call.body);
      expect(other.target, call.name).toBe(call.target);
      expect(call.target, call.name).toMatch(/^modules\/[a-z]+$/);
    }
    for (const env of ENVS) {
      const declared = variables(tree, `envs/${env}`);
      const values = await tfvars(env);
      for (const key of Object.keys(values)) expect(declared.has(key), `${env}: ${key} in tfvars is not a variable`).toBe(true);
      for (const [name, body] of declared) if (!('default' in body)) expect(values, `${env}: ${name} has no value`).toHaveProperty(name);
      expect(values.environment).toBe(env);
    }
  });
});

describe('the checks catch a broken configuration', () => {
  const broken = {
    'modules/m/main.tf': `
resource "google_kms_crypto_key" "k" {
  name            = var.name
  key_ring        = "ring"
  rotation_perod  = "7776000s"
  primary         = "v1"
  version_template {
    algorithm = "GOOGLE_SYMMETRIC_ENCRYPTION"
    colour    = "blue"
  }
  dynamic "no_such_block" {
    for_each = []
    content {}
  }
}
resource "google_not_a_thing" "x" {}
output "ring" {
  value = "\${google_kms_crypto_key.k.key_rign} \${google_kms_crypto_key.missing.id} \${local.nope}"
}
`,
    'modules/m/variables.tf': `
variable "name" {
  type = string
}
variable "unused" {
  description = "never read"
  type        = string
}
`,
    'envs/x/main.tf': `
module "m" {
  source = "../../modules/m"
  colour = "blue"
}
output "o" {
  value = "\${module.m.nothing} \${var.undeclared}"
}
moved {
  from = module.m
  to   = module.gone
}
`,
  };

  it('reports unknown types, arguments and nested blocks, and computed attributes that are set', async () => {
    const errors = schemaErrors(await treeFromTexts(broken), schema).join('\n');
    expect(errors).toContain('google_kms_crypto_key.k.rotation_perod: unknown argument');
    expect(errors).toContain('google_kms_crypto_key.k.primary: is read-only (computed)');
    expect(errors).toContain('version_template.colour: unknown argument');
    expect(errors).toContain('dynamic "no_such_block" is not a block');
    expect(errors).toContain('google_not_a_thing.x: unknown resource type');
  });

  it('reports references to undeclared resources, missing attributes and locals', async () => {
    const t = await treeFromTexts(broken);
    const refs = referenceErrors(t, schema).join('\n');
    expect(refs).toContain('google_kms_crypto_key.k has no attribute key_rign');
    expect(refs).toContain('google_kms_crypto_key.missing is not declared');
    expect(variableErrors(t).join('\n')).toContain('local.nope is not defined');
  });

  it('reports variables without description, unused or undeclared, and wrong module inputs and outputs', async () => {
    const t = await treeFromTexts(broken);
    const vars = variableErrors(t).join('\n');
    expect(vars).toContain('variable "name" has no description');
    expect(vars).toContain('variable "unused" is declared but never used');
    expect(vars).toContain('var.undeclared is used but not declared');
    const mods = moduleErrors(t).join('\n');
    expect(mods).toContain('module m passes colour');
    expect(mods).toContain('module m misses required name');
    expect(mods).toContain('module.m.nothing is not an output');
  });

  it('reports moves to addresses that do not exist and from addresses that still do', async () => {
    const moved = movedErrors(await treeFromTexts(broken)).join('\n');
    expect(moved).toContain('moved to module.gone, which does not exist');
    expect(moved).toContain('moved from module.m, which still exists');
  });
});
