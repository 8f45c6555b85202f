# The app module (the fleet: launch template, Auto Scaling group, load balancer) planned on its own
# against the mock AWS provider: security groups, listeners, the health check and the drain, the
# boot script, and the sizes that must nest.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/aws"
}

# The pattern AWS accepts in security group and rule descriptions (an apostrophe is refused at apply).
variables {
  description_pattern         = "^[0-9A-Za-z_ .:/()#,@\\[\\]+=&;{}!$*-]*$"
  kms_key_arn                 = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  name                        = "cacheload-dev"
  region                      = "us-east-1"
  environment                 = "dev"
  service                     = "cacheload"
  vpc_id                      = "vpc-0123456789abcdef0"
  vpc_cidr                    = "10.42.0.0/16"
  subnet_ids                  = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  alb_subnet_ids              = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  allowed_cidrs               = ["10.42.0.0/16"]
  client_security_group_ids   = ["sg-0aaaaaaaaaaaaaaaa"]
  ami_id                      = "ami-0d1e2b3a4c5f60718"
  instance_type               = "c7i.large"
  artifact_s3_uri             = "s3://cacheload-artifacts/release/cacheload.tar.gz"
  cloudwatch_namespace        = "CacheLoad"
  redis_endpoint              = "master.cacheload-dev.abcdef.use1.cache.amazonaws.com"
  redis_auth_secret_arn       = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redis-AbCdEf"
  postgres_endpoint           = "cacheload-dev.abcdefghijkl.us-east-1.rds.amazonaws.com"
  postgres_database           = "cacheload"
  postgres_secret_arn         = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-AbCdEf"
  secret_recovery_window_days = 0
}

run "app_fleet_security_and_boot" {
  command = plan
  module {
    source = "./modules/app"
  }
  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "IMDSv2 only, one hop, on every instance of the group."
  }
  assert {
    condition     = aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true" && aws_launch_template.this.block_device_mappings[0].ebs[0].kms_key_id == var.kms_key_arn
    error_message = "The root volume is encrypted with the deployment's key."
  }
  assert {
    condition     = aws_launch_template.this.monitoring[0].enabled && length(aws_launch_template.this.network_interfaces) == 0
    error_message = "Detailed monitoring; no network interface of its own (no public address)."
  }
  assert {
    condition     = length(aws_security_group.this.ingress) == 0 && aws_vpc_security_group_ingress_rule.from_balancer.referenced_security_group_id == aws_security_group.balancer.id && aws_vpc_security_group_ingress_rule.from_balancer.from_port == 8080 && aws_vpc_security_group_ingress_rule.from_balancer.to_port == 8080
    error_message = "Inbound to the servers: their port, from the balancer's security group only."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.balancer_to_app.referenced_security_group_id == aws_security_group.this.id && aws_vpc_security_group_egress_rule.balancer_to_app.from_port == 8080 && length(aws_security_group.balancer.egress) == 0
    error_message = "Out of the balancer: the server port of the servers' group only."
  }
  assert {
    condition     = toset([for rule in aws_vpc_security_group_ingress_rule.balancer_cidrs : "${rule.cidr_ipv4}:${rule.from_port}"]) == toset(["10.42.0.0/16:80"]) && toset([for rule in aws_vpc_security_group_ingress_rule.balancer_clients : "${rule.referenced_security_group_id}:${rule.from_port}"]) == toset(["sg-0aaaaaaaaaaaaaaaa:80"])
    error_message = "Into the balancer: port 80 (no certificate) from allowed_cidrs and the load generators, nothing else."
  }
  assert {
    condition     = alltrue([for rule in concat(tolist(aws_security_group.this.egress), values(aws_vpc_security_group_ingress_rule.balancer_cidrs), values(aws_vpc_security_group_ingress_rule.balancer_clients), [aws_vpc_security_group_ingress_rule.from_balancer, aws_vpc_security_group_egress_rule.balancer_to_app]) : can(regex(var.description_pattern, rule.description))]) && can(regex(var.description_pattern, aws_security_group.this.description)) && can(regex(var.description_pattern, aws_security_group.balancer.description))
    error_message = "Every description matches what AWS accepts."
  }
  assert {
    condition     = aws_secretsmanager_secret.admin_token.name_prefix == "cacheload-dev/admin-token-" && aws_secretsmanager_secret.admin_token.recovery_window_in_days == 0
    error_message = "Secrets are named by prefix (apply after destroy works) with the chosen recovery window."
  }
  assert {
    condition     = aws_autoscaling_group.this.min_size == 2 && aws_autoscaling_group.this.desired_capacity == 2 && aws_autoscaling_group.this.max_size == 4 && length(aws_autoscaling_group.this.vpc_zone_identifier) == 2 && aws_autoscaling_group.this.health_check_type == "ELB"
    error_message = "Two instances over the two private subnets by default, replaced when the balancer's health check fails."
  }
  assert {
    condition     = aws_autoscaling_group.this.instance_refresh[0].strategy == "Rolling" && aws_autoscaling_group.this.instance_refresh[0].preferences[0].min_healthy_percentage == 50 && aws_autoscaling_group.this.launch_template[0].version == "1"
    error_message = "A new launch template version (user data, artifact) is rolled out, half the group staying in service."
  }
  assert {
    condition     = aws_autoscaling_policy.requests_per_target.target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ALBRequestCountPerTarget" && aws_autoscaling_policy.requests_per_target.target_tracking_configuration[0].predefined_metric_specification[0].resource_label == "app/cacheload-dev-alb/0123456789abcdef/targetgroup/cl-0123456789abcdef/0123456789abcdef"
    error_message = "Target tracking on the balancer's requests per target."
  }
  assert {
    condition     = aws_lb.this.internal && aws_lb.this.drop_invalid_header_fields && aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == aws_s3_bucket.access_logs.id
    error_message = "An internal balancer by default, logging to its bucket."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.access_logs.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256" && aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets
    error_message = "The access-log bucket is encrypted (SSE-S3, the only kind the balancer delivers to) and private."
  }
  assert {
    condition     = aws_lb_target_group.this.health_check[0].path == "/health" && aws_lb_target_group.this.health_check[0].matcher == "200" && aws_lb_target_group.this.health_check[0].interval * aws_lb_target_group.this.health_check[0].unhealthy_threshold <= var.drain_seconds
    error_message = "The health check is /health (200 keeps an instance, 503 takes it out) and a drain outlasts it."
  }
  assert {
    condition     = aws_lb_target_group.this.deregistration_delay == "40"
    error_message = "The deregistration delay covers the longest request (the 30 s origin timeout)."
  }
  assert {
    condition     = length(aws_lb_listener.https) == 0 && aws_lb_listener.http.default_action[0].type == "forward" && aws_lb_listener.http.port == 80
    error_message = "Without a certificate: HTTP only, forwarded to the group."
  }
  assert {
    condition     = startswith(base64decode(aws_launch_template.this.user_data), "#!/bin/bash")
    error_message = "The template carries the boot script (base64, as launch templates take it)."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "--drain-seconds 12 --cloudwatch") && strcontains(base64decode(aws_launch_template.this.user_data), "TimeoutStopSec=47") && strcontains(base64decode(aws_launch_template.this.user_data), "--instance-id $${INSTANCE_ID}") && strcontains(base64decode(aws_launch_template.this.user_data), "latest/meta-data/instance-id") && length(regexall("--cloudwatch", base64decode(aws_launch_template.this.user_data))) == 1
    error_message = "serve drains for drain_seconds, systemd waits for the drain and the grace, and serve alone pushes (hits, misses, latency), with the instance id read from IMDSv2."
  }
}

run "app_fleet_with_a_certificate" {
  command = plan
  module {
    source = "./modules/app"
  }
  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
    alb_internal    = false
  }
  assert {
    condition     = length(aws_lb_listener.https) == 1 && aws_lb_listener.https[0].ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06" && aws_lb_listener.https[0].certificate_arn == var.certificate_arn && aws_lb_listener.https[0].port == 443
    error_message = "With a certificate: an HTTPS listener with the TLS 1.3/1.2 policy."
  }
  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" && aws_lb_listener.http.default_action[0].redirect[0].status_code == "HTTP_301"
    error_message = "With a certificate, HTTP redirects to HTTPS."
  }
  assert {
    condition     = toset([for rule in aws_vpc_security_group_ingress_rule.balancer_cidrs : "${rule.cidr_ipv4}:${rule.from_port}"]) == toset(["10.42.0.0/16:80", "10.42.0.0/16:443"])
    error_message = "With a certificate, 80 (for the redirect) and 443 from allowed_cidrs."
  }
  assert {
    condition     = !aws_lb.this.internal && output.url == "https://internal-cacheload-dev-alb-123456789.us-east-1.elb.amazonaws.com"
    error_message = "alb_internal = false faces the internet; the URL is https."
  }
}

run "app_fleet_sizes_must_nest" {
  command = plan
  module {
    source = "./modules/app"
  }
  variables {
    min_size         = 3
    desired_capacity = 2
  }
  expect_failures = [aws_autoscaling_group.this]
}

run "app_drain_must_outlast_the_health_checks" {
  command = plan
  module {
    source = "./modules/app"
  }
  variables {
    drain_seconds = 5
  }
  expect_failures = [aws_lb_target_group.this]
}

run "app_user_data_follows_the_cache_mode" {
  command = plan
  module {
    source = "./modules/app"
  }
  variables {
    redis_endpoint = "cacheload-dev-abcdef.serverless.use1.cache.amazonaws.com"
    redis_mode     = "cluster"
    redis_auth     = false
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "serve --listen 0.0.0.0:8080 --redis-mode cluster") && strcontains(base64decode(aws_launch_template.this.user_data), "export --redis-mode cluster")
    error_message = "serve and export are told the cache is a cluster."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "redis_credentials=\"\"") && !strcontains(base64decode(aws_launch_template.this.user_data), "secret-id \"$1\"; }\nredis_credentials=\":$(secret \"arn")
    error_message = "Without AUTH the Redis URL carries no token."
  }
}


run "app_user_data_with_a_mysql_origin" {
  command = plan
  module {
    source = "./modules/app"
  }
  variables {
    db_engine         = "mysql"
    db_port           = 3306
    postgres_database = "ecommerce"
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "DATABASE_URL=mysql://$pg_user:$pg_password@cacheload-dev.abcdefghijkl.us-east-1.rds.amazonaws.com:3306/ecommerce?ssl-mode=verify-identity&ssl-ca=/etc/ssl/certs/rds-ca-bundle.pem") && !strcontains(base64decode(aws_launch_template.this.user_data), "DATABASE_URL=postgresql://")
    error_message = "With MySQL, serve and seed get a mysql:// URL verifying RDS's certificate with its CA bundle."
  }
  assert {
    condition     = length([for rule in aws_security_group.this.egress : rule if rule.from_port == 3306 && rule.to_port == 3306]) == 1 && length([for rule in aws_security_group.this.egress : rule if rule.from_port == 5432]) == 0
    error_message = "Out to 3306, not 5432."
  }
}
