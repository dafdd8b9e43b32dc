/**
 * Every secret a function reads is a Secret Manager secret reaching it as a secret environment variable
 * (modules/functions). Terraform creates the secrets, never a version: values are added by an operator
 * (README "Operate"), so no secret value is ever in terraform state or in a plan.
 *
 * Secret ids are derived from the variable name: JWT_SECRETS → lattice-jwt-secrets-<env>,
 * PROVIDER_KEY_OPENAI → lattice-provider-key-openai-<env>. Each function's service account may read
 * only the secrets that function reads (var.readers, from modules/platform, checked against
 * functions/shared/config.ts by test/infra).
 */
locals {
  secret_ids = { for name in var.secrets : name => "lattice-${lower(replace(name, "_", "-"))}-${var.environment}" }
  grants = merge([
    for fn, names in var.readers : { for name in names : "${fn}/${name}" => { fn = fn, name = name } }
  ]...)
}

resource "google_secret_manager_secret" "this" {
  for_each  = local.secret_ids
  project   = var.project_id
  secret_id = each.value
  labels    = { app = "lattice-lock", environment = var.environment }

  replication {
    auto {}
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each  = local.grants
  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.name].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts[each.value.fn]}"
}
