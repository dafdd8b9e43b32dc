output "secret_ids" {
  description = "Secret Manager secret id of each secret, by environment variable name (add versions to these)."
  value       = { for name, secret in google_secret_manager_secret.this : name => secret.secret_id }
}
