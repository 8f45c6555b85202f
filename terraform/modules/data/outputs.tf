output "redis_endpoint" {
  description = "What clients connect to (TLS on 6379): the primary endpoint, the cluster's configuration endpoint, or the serverless endpoint."
  value = (local.serverless ? aws_elasticache_serverless_cache.this[0].endpoint[0].address
    : local.cluster_mode ? aws_elasticache_replication_group.this[0].configuration_endpoint_address
  : aws_elasticache_replication_group.this[0].primary_endpoint_address)
}

output "redis_replication_group_id" {
  description = "Replication group id, or the serverless cache's name."
  value       = local.serverless ? aws_elasticache_serverless_cache.this[0].name : aws_elasticache_replication_group.this[0].id
}

output "redis_auth_enabled" {
  description = "Whether clients send the AUTH token (replication group and cluster mode; Serverless is reached by security group and TLS)."
  value       = !local.serverless
}

output "redis_member_cluster_ids" {
  description = "The values of the dimension ElastiCache's CloudWatch metrics carry: every node's CacheClusterId (<group>-001, … or <group>-0001-001, … per shard), or the serverless cache's name."
  value = (local.serverless ? [var.name]
    : local.cluster_mode ? flatten([for shard in range(var.num_node_groups) : [for node in range(1 + var.replicas_per_node) : format("%s-%04d-%03d", var.name, shard + 1, node + 1)]])
  : [for index in range(var.cache_nodes) : format("%s-%03d", var.name, index + 1)])
}

output "redis_metric_dimension" {
  description = "The dimension naming the cache in AWS/ElastiCache metrics: CacheClusterId per node, clusterId for Serverless."
  value       = local.serverless ? "clusterId" : "CacheClusterId"
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

output "db_engine" {
  description = "postgres or mysql: what the origin is."
  value       = var.db_engine
}

output "db_port" {
  description = "The origin's port (5432 or 3306)."
  value       = local.db_port
}
