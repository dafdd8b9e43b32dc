output "jwt_secrets_secret_id" {
  description = "Secret Manager secret id holding JWT_SECRETS."
  value       = google_secret_manager_secret.jwt_secrets.secret_id
}
