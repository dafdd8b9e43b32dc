/**
 * JWT_SECRETS ("kid:secret[,kid:secret…]", the first signs, all verify) lives in Secret Manager and
 * reaches the functions as a secret environment variable. Terraform creates the secret, never a
 * version: the value is added by an operator (README "Operate"), so it is never in terraform state.
 */
resource "google_secret_manager_secret" "jwt_secrets" {
  project   = var.project_id
  secret_id = "lattice-jwt-secrets-${var.environment}"
  labels    = { app = "lattice-lock", environment = var.environment }

  replication {
    auto {}
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_secret_manager_secret_iam_member" "jwt_secrets" {
  for_each  = var.accessors
  project   = var.project_id
  secret_id = google_secret_manager_secret.jwt_secrets.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}
