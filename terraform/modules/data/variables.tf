variable "name" {
  description = "Name prefix of every resource."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Two private subnets in two AZs."
  type        = list(string)
}

variable "client_sg_ids" {
  description = "Security groups allowed to reach Redis (6379) and PostgreSQL (5432)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for ElastiCache, RDS, Performance Insights and the secrets."
  type        = string
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "cache_mode" {
  description = "replication_group, cluster or serverless (see the root variable)."
  type        = string
  default     = "replication_group"
}

variable "cache_nodes" {
  description = "cache_mode = replication_group: nodes in the group (primary + replicas)."
  type        = number
}

variable "num_node_groups" {
  description = "cache_mode = cluster: shards."
  type        = number
  default     = 3
}

variable "replicas_per_node" {
  description = "cache_mode = cluster: replicas per shard."
  type        = number
  default     = 1
}

variable "serverless_limits" {
  description = "cache_mode = serverless: data_storage_gb and ecpu_per_second ceilings."
  type        = object({ data_storage_gb = number, ecpu_per_second = number })
  default     = { data_storage_gb = 10, ecpu_per_second = 5000 }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB."
  type        = number
}

variable "db_multi_az" {
  description = "RDS standby in a second AZ."
  type        = bool
}

variable "deletion_protection" {
  description = "RDS deletion protection."
  type        = bool
}

variable "db_engine" {
  description = "The origin database: postgres (RDS PostgreSQL 16) or mysql (RDS MySQL 8.0)."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql"], var.db_engine)
    error_message = "db_engine must be postgres or mysql."
  }
}

variable "database_name" {
  description = "Database holding the products table."
  type        = string
  default     = "cacheload"
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once)."
  type        = number
}
