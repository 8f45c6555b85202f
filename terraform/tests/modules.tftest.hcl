# Each module planned on its own against the mock AWS provider, so assertions can read its
# resources: the alarm equals what `cacheload alarm create` makes, every security group rule and
# description, IMDSv2 and encryption on the instances, the boot script's fixed mistakes.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/aws"
}

# The pattern AWS accepts in security group and rule descriptions (an apostrophe is refused at apply).
variables {
  description_pattern = "^[0-9A-Za-z_ .:/()#,@\\[\\]+=&;{}!$*-]*$"
  kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  # The monitoring module's balancer dimensions (the app module's outputs in the root).
  balancer_arn_suffix     = "app/cacheload-dev-alb/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/cl-0123456789abcdef/0123456789abcdef"
  min_healthy_hosts       = 2
}

run "monitoring_alarm_equals_cacheload_alarm_create" {
  command = plan
  module {
    source = "./modules/monitoring"
  }
  variables {
    name                 = "cacheload-dev"
    region               = "us-east-1"
    environment          = "dev"
    alarm_email          = ""
    replication_group_id = "cacheload-dev"
    cache_cluster_ids    = ["cacheload-dev-001", "cacheload-dev-002", "cacheload-dev-003"]
    db_instance_id       = "cacheload-dev"
  }
  # `cacheload alarm create` (HitRatioAlarm): 100*hits/(hits+misses) < 80, 3 of 5 periods of 60 s,
  # missing data not breaching, Sum of CacheHits and CacheMisses in CacheLoad by Service/Environment.
  assert {
    condition     = aws_cloudwatch_metric_alarm.hit_ratio.threshold == 80 && aws_cloudwatch_metric_alarm.hit_ratio.comparison_operator == "LessThanThreshold"
    error_message = "The hit-ratio alarm fires below 80%."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.hit_ratio.evaluation_periods == 5 && aws_cloudwatch_metric_alarm.hit_ratio.datapoints_to_alarm == 3 && aws_cloudwatch_metric_alarm.hit_ratio.treat_missing_data == "notBreaching"
    error_message = "3 of 5 periods, missing data not breaching."
  }
  assert {
    condition     = one([for query in aws_cloudwatch_metric_alarm.hit_ratio.metric_query : query.expression if query.return_data == true]) == "100*hits/(hits+misses)"
    error_message = "The alarm returns the metric math 100*hits/(hits+misses)."
  }
  assert {
    condition = alltrue([for metric in flatten([for query in aws_cloudwatch_metric_alarm.hit_ratio.metric_query : query.metric]) :
      metric.namespace == "CacheLoad" && metric.stat == "Sum" && metric.period == 60 &&
      metric.dimensions["Service"] == "cacheload" && metric.dimensions["Environment"] == "dev" && length(metric.dimensions) == 2 &&
    contains(["CacheHits", "CacheMisses"], metric.metric_name)]) && length(flatten([for query in aws_cloudwatch_metric_alarm.hit_ratio.metric_query : query.metric])) == 2
    error_message = "Hits and misses are read as CloudWatchPusher writes them."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.elasticache_hit_rate) == 3
    error_message = "Three cache nodes, three ElastiCache CacheHitRate alarms."
  }
  # `cacheload alarm create --latency-p99 50ms` (LatencyAlarm): CloudWatch's p99 of RequestLatency > 50 ms.
  assert {
    condition = (aws_cloudwatch_metric_alarm.latency_p99.extended_statistic == "p99" && aws_cloudwatch_metric_alarm.latency_p99.statistic == null &&
      aws_cloudwatch_metric_alarm.latency_p99.metric_name == "RequestLatency" && aws_cloudwatch_metric_alarm.latency_p99.namespace == "CacheLoad" &&
      aws_cloudwatch_metric_alarm.latency_p99.dimensions["Service"] == "cacheload" && aws_cloudwatch_metric_alarm.latency_p99.dimensions["Environment"] == "dev" &&
    length(aws_cloudwatch_metric_alarm.latency_p99.dimensions) == 2)
    error_message = "The latency alarm watches CloudWatch's own p99 of the RequestLatency cacheload sends."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.latency_p99.threshold == 50 && aws_cloudwatch_metric_alarm.latency_p99.comparison_operator == "GreaterThanThreshold" && aws_cloudwatch_metric_alarm.latency_p99.treat_missing_data == "notBreaching"
    error_message = "The latency alarm fires above 50 ms, missing data not breaching."
  }
}

run "dashboard_takes_the_alarm_variables" {
  command = plan
  module {
    source = "./modules/monitoring"
  }
  variables {
    name                 = "cacheload-prod"
    region               = "eu-west-1"
    environment          = "prod"
    namespace            = "Shop/Cache"
    service              = "catalog"
    threshold            = 90
    alarm_email          = ""
    replication_group_id = "cacheload-prod"
    cache_cluster_ids    = ["cacheload-prod-001"]
    db_instance_id       = "cacheload-prod"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"Shop/Cache\"") && !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"CacheLoad\"")
    error_message = "The dashboard reads the namespace the alarm reads."
  }
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"catalog\"") && !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"cacheload\"")
    error_message = "The dashboard reads the Service dimension the alarm reads."
  }
  assert {
    condition     = one(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.annotations.horizontal).value == 90
    error_message = "The dashboard's threshold line is the alarm's threshold."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.healthy_hosts.namespace == "AWS/ApplicationELB" && aws_cloudwatch_metric_alarm.healthy_hosts.metric_name == "HealthyHostCount" && aws_cloudwatch_metric_alarm.healthy_hosts.threshold == 2 && aws_cloudwatch_metric_alarm.healthy_hosts.comparison_operator == "LessThanThreshold" && aws_cloudwatch_metric_alarm.healthy_hosts.dimensions["TargetGroup"] == var.target_group_arn_suffix && aws_cloudwatch_metric_alarm.healthy_hosts.dimensions["LoadBalancer"] == var.balancer_arn_suffix
    error_message = "An alarm when fewer than the group's minimum pass the balancer's health check."
  }
  assert {
    condition     = length([for widget in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : widget if strcontains(jsonencode(widget), "HealthyHostCount") && strcontains(jsonencode(widget), "TargetResponseTime")]) == 1 && length([for widget in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : widget if strcontains(jsonencode(widget), "RequestCount") && strcontains(jsonencode(widget), "HTTPCode_Target_5XX_Count")]) == 1
    error_message = "The dashboard shows the balancer's requests, 5xx, target response time p99 and healthy hosts."
  }
}

run "loadgen_security_groups_are_valid" {
  command = plan
  module {
    source = "./modules/loadgen"
  }
  variables {
    name            = "cacheload-dev"
    region          = "us-east-1"
    vpc_id          = "vpc-0123456789abcdef0"
    subnet_ids      = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    instance_count  = 2
    ami_id          = "ami-0d1e2b3a4c5f60718"
    instance_type   = "c7i.large"
    artifact_s3_uri = "s3://cacheload-artifacts/release/cacheload.tar.gz"
    target_url      = "http://internal-cacheload-dev-alb-123456789.us-east-1.elb.amazonaws.com"
  }
  assert {
    condition     = alltrue([for rule in aws_security_group.this.egress : can(regex(var.description_pattern, rule.description))]) && can(regex(var.description_pattern, aws_security_group.this.description))
    error_message = "Every description matches what AWS accepts (no apostrophes)."
  }
  assert {
    condition     = alltrue([for instance in aws_instance.this : instance.metadata_options[0].http_tokens == "required" && instance.root_block_device[0].encrypted])
    error_message = "IMDSv2 and encrypted volumes on every load generator."
  }
  assert {
    condition     = alltrue([for instance in aws_instance.this : instance.tags["CacheloadFleet"] == "cacheload-dev"]) && output.fleet_tag == "CacheloadFleet=cacheload-dev"
    error_message = "Every load generator carries the tag scripts/fleet-run targets."
  }
  assert {
    condition = (one([for rule in aws_s3_bucket_server_side_encryption_configuration.results[0].rule : one(rule.apply_server_side_encryption_by_default).kms_master_key_id]) == var.kms_key_arn
      && aws_s3_bucket_public_access_block.results[0].block_public_policy && aws_s3_bucket_public_access_block.results[0].restrict_public_buckets
    && aws_s3_bucket_versioning.results[0].versioning_configuration[0].status == "Enabled")
    error_message = "The results bucket is encrypted with the deployment's key, private and versioned."
  }
  assert {
    condition     = one([for rule in aws_s3_bucket_lifecycle_configuration.results[0].rule : rule.expiration[0].days if rule.id == "expire-runs"]) == 30
    error_message = "Results expire after results_retention_days."
  }
  assert {
    condition = (one([for statement in data.aws_iam_policy_document.loadgen[0].statement : statement.resources if statement.sid == "WriteAndReadResults"]) == toset(["${aws_s3_bucket.results[0].arn}/runs/*"])
    && one([for statement in data.aws_iam_policy_document.loadgen[0].statement : statement.actions if statement.sid == "WriteAndReadResults"]) == toset(["s3:PutObject", "s3:GetObject"]))
    error_message = "The instances may write and read results under runs/ only."
  }
}

run "network_flow_log_role_has_the_documented_minimum" {
  command = plan
  module {
    source = "./modules/network"
  }
  variables {
    name               = "cacheload-dev"
    region             = "us-east-1"
    vpc_cidr           = "10.42.0.0/16"
    availability_zones = []
    enable_nat_gateway = false
  }
  assert {
    condition = length(setsubtract(
      ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
    flatten([for statement in data.aws_iam_policy_document.flow_logs.statement : statement.actions]))) == 0
    error_message = "The flow-log role has AWS's documented minimum of five actions."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 0
    error_message = "enable_nat_gateway = false makes no NAT gateway."
  }
}

run "data_module_uses_the_partition" {
  command = plan
  module {
    source = "./modules/data"
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-us-gov" }
  }
  variables {
    name                        = "cacheload-dev"
    vpc_id                      = "vpc-0123456789abcdef0"
    private_subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    client_sg_ids               = ["sg-0123456789abcdef0"]
    cache_node_type             = "cache.t4g.small"
    cache_nodes                 = 2
    db_instance_class           = "db.t4g.micro"
    db_allocated_storage        = 20
    db_multi_az                 = false
    deletion_protection         = false
    secret_recovery_window_days = 7
  }
  assert {
    condition     = startswith(aws_iam_role_policy_attachment.rds_monitoring.policy_arn, "arn:aws-us-gov:")
    error_message = "ARNs are built from the partition, never arn:aws: by hand."
  }
  assert {
    condition     = aws_elasticache_replication_group.this[0].transit_encryption_enabled && aws_elasticache_replication_group.this[0].at_rest_encryption_enabled && aws_db_instance.this.storage_encrypted
    error_message = "Encryption in transit and at rest for the cache, at rest for the database."
  }
  assert {
    condition     = aws_secretsmanager_secret.redis_auth.name_prefix == "cacheload-dev/redis-auth-token-"
    error_message = "The AUTH token's secret is named by prefix."
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_ingress_rule.redis : rule.from_port == 6379 && rule.to_port == 6379 && rule.ip_protocol == "tcp" && rule.referenced_security_group_id == "sg-0123456789abcdef0" && rule.cidr_ipv4 == null]) && length(aws_vpc_security_group_ingress_rule.redis) == 1
    error_message = "Redis admits 6379 from the client security group only."
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_ingress_rule.postgres : rule.from_port == 5432 && rule.to_port == 5432 && rule.ip_protocol == "tcp" && rule.referenced_security_group_id == "sg-0123456789abcdef0" && rule.cidr_ipv4 == null]) && length(aws_vpc_security_group_ingress_rule.postgres) == 1
    error_message = "PostgreSQL admits 5432 from the client security group only."
  }
}

run "data_module_mysql" {
  command = plan
  module {
    source = "./modules/data"
  }
  variables {
    name                        = "cacheload-dev"
    vpc_id                      = "vpc-0123456789abcdef0"
    private_subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    client_sg_ids               = ["sg-0123456789abcdef0"]
    cache_node_type             = "cache.t4g.small"
    cache_nodes                 = 2
    db_engine                   = "mysql"
    database_name               = "ecommerce"
    db_instance_class           = "db.t4g.micro"
    db_allocated_storage        = 20
    db_multi_az                 = false
    deletion_protection         = false
    secret_recovery_window_days = 7
  }
  assert {
    condition     = aws_db_instance.this.engine == "mysql" && aws_db_instance.this.engine_version == "8.0" && aws_db_instance.this.port == 3306 && aws_db_instance.this.db_name == "ecommerce"
    error_message = "RDS MySQL 8.0 on 3306 with the labs' database."
  }
  assert {
    condition     = aws_db_parameter_group.this.family == "mysql8.0" && one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "require_secure_transport"]) == "1" && one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "log_bin_trust_function_creators"]) == "1" && length([for p in aws_db_parameter_group.this.parameter : p if p.name == "rds.force_ssl"]) == 0
    error_message = "MySQL's parameter group requires TLS and accepts slow_version() with binary logging on."
  }
  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.kms_key_id == var.kms_key_arn && aws_db_instance.this.backup_retention_period == 7 && aws_db_instance.this.monitoring_interval == 60 && aws_db_instance.this.manage_master_user_password && aws_db_instance.this.performance_insights_enabled
    error_message = "The same encryption, backups, monitoring and managed password as the PostgreSQL instance."
  }
  assert {
    condition     = toset(aws_db_instance.this.enabled_cloudwatch_logs_exports) == toset(["error", "slowquery"])
    error_message = "MySQL's error and slow-query logs go to CloudWatch."
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_ingress_rule.postgres : rule.from_port == 3306 && rule.to_port == 3306 && rule.referenced_security_group_id == "sg-0123456789abcdef0" && rule.cidr_ipv4 == null]) && length(aws_vpc_security_group_ingress_rule.postgres) == 1 && aws_security_group.postgres.name == "cacheload-dev-mysql"
    error_message = "MySQL admits 3306 from the app's security group only."
  }
}

run "data_module_cluster_mode" {
  command = plan
  module {
    source = "./modules/data"
  }
  variables {
    name                        = "cacheload-dev"
    vpc_id                      = "vpc-0123456789abcdef0"
    private_subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    client_sg_ids               = ["sg-0123456789abcdef0"]
    cache_mode                  = "cluster"
    cache_node_type             = "cache.t4g.small"
    cache_nodes                 = 2
    num_node_groups             = 3
    replicas_per_node           = 1
    db_instance_class           = "db.t4g.micro"
    db_allocated_storage        = 20
    db_multi_az                 = false
    deletion_protection         = false
    secret_recovery_window_days = 7
  }
  assert {
    condition = (aws_elasticache_replication_group.this[0].cluster_mode == "enabled" && aws_elasticache_replication_group.this[0].num_node_groups == 3
    && aws_elasticache_replication_group.this[0].replicas_per_node_group == 1 && aws_elasticache_replication_group.this[0].parameter_group_name == "default.redis7.cluster.on")
    error_message = "Cluster mode: three shards of a primary and a replica, the cluster-enabled parameter group."
  }
  assert {
    condition     = aws_elasticache_replication_group.this[0].transit_encryption_enabled && aws_elasticache_replication_group.this[0].auth_token != null && aws_elasticache_replication_group.this[0].automatic_failover_enabled
    error_message = "TLS, AUTH and failover as in the replication group."
  }
  assert {
    condition     = output.redis_endpoint == "clustercfg.cacheload-dev.abcdef.use1.cache.amazonaws.com" && output.redis_auth_enabled
    error_message = "Clients start from the configuration endpoint, with the AUTH token."
  }
  assert {
    condition     = length(output.redis_member_cluster_ids) == 6 && output.redis_member_cluster_ids[0] == "cacheload-dev-0001-001" && output.redis_member_cluster_ids[5] == "cacheload-dev-0003-002" && output.redis_metric_dimension == "CacheClusterId"
    error_message = "Alarms per node of every shard, named as ElastiCache names cluster-mode nodes."
  }
  assert {
    condition     = length(aws_elasticache_serverless_cache.this) == 0
    error_message = "No serverless cache in cluster mode."
  }
}

run "data_module_serverless" {
  command = plan
  module {
    source = "./modules/data"
  }
  variables {
    name                        = "cacheload-dev"
    vpc_id                      = "vpc-0123456789abcdef0"
    private_subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    client_sg_ids               = ["sg-0123456789abcdef0"]
    cache_mode                  = "serverless"
    cache_node_type             = "cache.t4g.small"
    cache_nodes                 = 2
    serverless_limits           = { data_storage_gb = 20, ecpu_per_second = 10000 }
    db_instance_class           = "db.t4g.micro"
    db_allocated_storage        = 20
    db_multi_az                 = false
    deletion_protection         = false
    secret_recovery_window_days = 7
  }
  assert {
    condition     = length(aws_elasticache_replication_group.this) == 0 && aws_elasticache_serverless_cache.this[0].engine == "redis" && aws_elasticache_serverless_cache.this[0].kms_key_id == var.kms_key_arn
    error_message = "Serverless replaces the replication group, encrypted with the deployment's key."
  }
  assert {
    condition = (aws_elasticache_serverless_cache.this[0].cache_usage_limits[0].data_storage[0].maximum == 20
    && aws_elasticache_serverless_cache.this[0].cache_usage_limits[0].ecpu_per_second[0].maximum == 10000)
    error_message = "The usage limits cap the cost."
  }
  assert {
    condition     = output.redis_endpoint == "cacheload-dev-abcdef.serverless.use1.cache.amazonaws.com" && !output.redis_auth_enabled
    error_message = "Clients use the serverless endpoint, reached by security group and TLS."
  }
  assert {
    condition     = length(output.redis_member_cluster_ids) == 1 && output.redis_member_cluster_ids[0] == "cacheload-dev" && output.redis_metric_dimension == "clusterId"
    error_message = "Serverless metrics carry clusterId = the cache's name."
  }
}

run "monitoring_serverless_alarm_dimension" {
  command = plan
  module {
    source = "./modules/monitoring"
  }
  variables {
    name                 = "cacheload-dev"
    region               = "us-east-1"
    environment          = "dev"
    alarm_email          = ""
    replication_group_id = "cacheload-dev"
    cache_cluster_ids    = ["cacheload-dev"]
    cache_dimension      = "clusterId"
    db_instance_id       = "cacheload-dev"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.elasticache_hit_rate) == 1 && aws_cloudwatch_metric_alarm.elasticache_hit_rate[0].dimensions == tomap({ clusterId = "cacheload-dev" })
    error_message = "The serverless cache's hit-rate alarm is dimensioned by clusterId."
  }
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "{AWS/ElastiCache,clusterId}")
    error_message = "The dashboard searches the serverless dimension."
  }
}
