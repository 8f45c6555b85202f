# The cache and the origin: ElastiCache Redis (TLS in transit, encrypted at rest, AUTH token) and
# RDS PostgreSQL (encrypted, private, TLS forced, master password generated and rotated by RDS in
# Secrets Manager). Only the client security groups reach either.

data "aws_partition" "current" {}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis from the cacheload instances only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  count                        = length(var.client_sg_ids)
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis TLS from a cacheload instance"
  referenced_security_group_id = var.client_sg_ids[count.index]
  from_port                    = 6379
  to_port                      = 6379
  ip_protocol                  = "tcp"
}

# The database's group (named by engine; the resource keeps its first name, PostgreSQL's).
resource "aws_security_group" "postgres" {
  name        = "${var.name}-${var.db_engine == "mysql" ? "mysql" : "postgres"}"
  description = "${local.db_label} from the cacheload instances only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  count                        = length(var.client_sg_ids)
  security_group_id            = aws_security_group.postgres.id
  description                  = "${local.db_label} TLS from a cacheload instance"
  referenced_security_group_id = var.client_sg_ids[count.index]
  from_port                    = local.db_port
  to_port                      = local.db_port
  ip_protocol                  = "tcp"
}

# --- ElastiCache Redis -------------------------------------------------------------------------

# AUTH tokens allow printable ASCII except / " @; letters and digits need no escaping in URLs.
# Generated once by Secrets Manager (no other provider needed); kept afterwards.
data "aws_secretsmanager_random_password" "redis_auth" {
  password_length     = 48
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "redis_auth" {
  #checkov:skip=CKV2_AWS_57:Rotating an ElastiCache AUTH token needs a ModifyReplicationGroup ROTATE/SET sequence and restarts of its clients; rotate with `terraform apply -replace=module.data.aws_secretsmanager_secret_version.redis_auth`.
  # A prefix, not a name: see the admin token's secret in the app module.
  name_prefix             = "${var.name}/redis-auth-token-"
  description             = "AUTH token of the ${var.name} ElastiCache replication group"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "redis_auth" {
  secret_id     = aws_secretsmanager_secret.redis_auth.id
  secret_string = data.aws_secretsmanager_random_password.redis_auth.random_password

  # The generator answers anew on every plan; the stored token stays until replaced on purpose.
  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
}

locals {
  cluster_mode = var.cache_mode == "cluster"
  serverless   = var.cache_mode == "serverless"
}

# cache_mode replication_group: one shard, a primary endpoint that follows failovers.
# cache_mode cluster: num_node_groups shards behind a configuration endpoint; clients route by
# hash slot (cacheload serve --redis-mode cluster).
resource "aws_elasticache_replication_group" "this" {
  count                      = local.serverless ? 0 : 1
  replication_group_id       = var.name
  description                = "${var.name}: the cache in front of PostgreSQL"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.cache_node_type
  num_cache_clusters         = local.cluster_mode ? null : var.cache_nodes
  num_node_groups            = local.cluster_mode ? var.num_node_groups : null
  replicas_per_node_group    = local.cluster_mode ? var.replicas_per_node : null
  cluster_mode               = local.cluster_mode ? "enabled" : "disabled"
  port                       = 6379
  parameter_group_name       = local.cluster_mode ? "default.redis7.cluster.on" : "default.redis7"
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.redis.id]
  automatic_failover_enabled = true
  multi_az_enabled           = true
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = aws_secretsmanager_secret_version.redis_auth.secret_string
  auth_token_update_strategy = "ROTATE"
  auto_minor_version_upgrade = true
  snapshot_retention_limit   = 1
  apply_immediately          = false
}

# cache_mode serverless: no nodes to size; TLS always, encrypted with the key, reachable from the
# client security groups only, capped by the usage limits. Clients speak the cluster protocol.
resource "aws_elasticache_serverless_cache" "this" {
  count                    = local.serverless ? 1 : 0
  name                     = var.name
  description              = "${var.name}: the cache in front of PostgreSQL (serverless)"
  engine                   = "redis"
  major_engine_version     = "7"
  kms_key_id               = var.kms_key_arn
  security_group_ids       = [aws_security_group.redis.id]
  subnet_ids               = var.private_subnet_ids
  snapshot_retention_limit = 1

  cache_usage_limits {
    data_storage {
      maximum = var.serverless_limits.data_storage_gb
      unit    = "GB"
    }
    ecpu_per_second {
      maximum = var.serverless_limits.ecpu_per_second
    }
  }
}

# --- RDS PostgreSQL ----------------------------------------------------------------------------

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
}

locals {
  mysql    = var.db_engine == "mysql"
  db_label = local.mysql ? "MySQL" : "PostgreSQL"
  db_port  = local.mysql ? 3306 : 5432
  # Per engine: plain-text connections refused (clients verify the server: sslmode=verify-full,
  # ssl-mode=verify-identity), statements slower than 500 ms logged (the origin's slow queries are
  # what the cache hides); PostgreSQL's pg_stat_statements; MySQL's functions (slow_version())
  # accepted with binary logging on, as backups need it.
  db_parameters = local.mysql ? {
    require_secure_transport        = { value = "1", apply_method = "immediate" }
    log_bin_trust_function_creators = { value = "1", apply_method = "immediate" }
    slow_query_log                  = { value = "1", apply_method = "immediate" }
    long_query_time                 = { value = "0.5", apply_method = "immediate" }
    } : {
    "rds.force_ssl"            = { value = "1", apply_method = "immediate" }
    log_min_duration_statement = { value = "500", apply_method = "immediate" }
    log_statement              = { value = "ddl", apply_method = "immediate" }
    shared_preload_libraries   = { value = "pg_stat_statements", apply_method = "pending-reboot" }
  }
}

resource "aws_db_parameter_group" "this" {
  name   = var.name
  family = local.mysql ? "mysql8.0" : "postgres16"

  dynamic "parameter" {
    for_each = local.db_parameters
    content {
      name         = parameter.key
      value        = parameter.value.value
      apply_method = parameter.value.apply_method
    }
  }
}

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Multi-AZ is the db_multi_az variable, off by default so a lab deployment stays cheap; turn it on for production.
  identifier                            = var.name
  engine                                = var.db_engine
  engine_version                        = local.mysql ? "8.0" : "16"
  port                                  = local.db_port
  instance_class                        = var.db_instance_class
  allocated_storage                     = var.db_allocated_storage
  storage_type                          = "gp3"
  storage_encrypted                     = true
  kms_key_id                            = var.kms_key_arn
  db_name                               = var.database_name
  username                              = "cacheload"
  manage_master_user_password           = true
  master_user_secret_kms_key_id         = var.kms_key_arn
  db_subnet_group_name                  = aws_db_subnet_group.this.name
  vpc_security_group_ids                = [aws_security_group.postgres.id]
  parameter_group_name                  = aws_db_parameter_group.this.name
  publicly_accessible                   = false
  multi_az                              = var.db_multi_az
  iam_database_authentication_enabled   = true
  backup_retention_period               = 7
  copy_tags_to_snapshot                 = true
  deletion_protection                   = var.deletion_protection
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${var.name}-final"
  auto_minor_version_upgrade            = true
  enabled_cloudwatch_logs_exports       = local.mysql ? ["error", "slowquery"] : ["postgresql", "upgrade"]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
}
