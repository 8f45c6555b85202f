output "redis_primary_endpoint" {
  description = "Primary endpoint of the replication group (TLS on 6379)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "redis_replication_group_id" {
  description = "Replication group id."
  value       = aws_elasticache_replication_group.this.id
}

output "redis_member_cluster_ids" {
  description = "CacheClusterId of every node, as ElastiCache names them (<group>-001, -002, …) and as its CloudWatch metrics are dimensioned."
  value       = [for index in range(var.cache_nodes) : format("%s-%03d", var.name, index + 1)]
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager secret holding the Redis AUTH token."
  value       = aws_secretsmanager_secret.redis_auth.arn
}

output "postgres_address" {
  description = "RDS endpoint host name."
  value       = aws_db_instance.this.address
}

output "postgres_database" {
  description = "Database name."
  value       = aws_db_instance.this.db_name
}

output "postgres_instance_id" {
  description = "RDS DBInstanceIdentifier."
  value       = aws_db_instance.this.identifier
}

output "postgres_secret_arn" {
  description = "Secrets Manager secret (managed by RDS) with the master username and password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
