output "instance_ids" {
  description = "Load-generator instances."
  value       = aws_instance.this[*].id
}

output "security_group_id" {
  description = "Security group of the load generators."
  value       = aws_security_group.this.id
}
