output "instance_id" {
  description = "The server instance."
  value       = aws_instance.this.id
}

output "private_ip" {
  description = "Private address of the server."
  value       = aws_instance.this.private_ip
}

output "port" {
  description = "Port of cacheload serve."
  value       = var.port
}

output "security_group_id" {
  description = "Security group of the server (allowed into Redis and PostgreSQL)."
  value       = aws_security_group.this.id
}

output "admin_token_secret_arn" {
  description = "Secret holding the admin bearer token."
  value       = aws_secretsmanager_secret.admin_token.arn
}
