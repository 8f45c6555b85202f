# Watching the hit ratio: the alarm computes 100*hits/(hits+misses) from the counts cacheload
# pushes (not an average of ratios, which would weigh a quiet minute like a busy one), ElastiCache's
# own CacheHitRate backs it up per node, the balancer's healthy hosts watch the fleet, all notify one SNS topic, and the dashboard is the file
# in dashboards/cloudwatch rendered with this deployment's names.

locals {
  # Exactly the dimensions CloudWatchPusher puts on every datum.
  dimensions = {
    Service     = var.service
    Environment = var.environment
  }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "hit_ratio" {
  alarm_name          = "${var.name}-hit-ratio-low"
  alarm_description   = "Cache hit ratio below ${var.threshold}% (100*hits/(hits+misses)) in ${var.datapoints_to_alarm} of ${var.evaluation_periods} minutes"
  comparison_operator = "LessThanThreshold"
  threshold           = var.threshold
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  # No traffic is not a low hit ratio.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.alarms.arn]
  ok_actions         = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "ratio"
    expression  = "100*hits/(hits+misses)"
    label       = "Cache hit ratio (%)"
    return_data = true
  }

  metric_query {
    id = "hits"
    metric {
      namespace   = var.namespace
      metric_name = "CacheHits"
      dimensions  = local.dimensions
      period      = var.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "misses"
    metric {
      namespace   = var.namespace
      metric_name = "CacheMisses"
      dimensions  = local.dimensions
      period      = var.period_seconds
      stat        = "Sum"
    }
  }
}

# p99 of RequestLatency: cacheload sends latency as values/counts (not a statistic set), so
# CloudWatch computes the percentile itself — the definition `cacheload alarm create --latency-p99`
# creates. An average would hide the tail this alarm exists for.
resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = "${var.name}-latency-p99-high"
  alarm_description   = "p99 request latency above ${var.latency_p99_threshold_ms} ms in ${var.datapoints_to_alarm} of ${var.evaluation_periods} minutes"
  namespace           = var.namespace
  metric_name         = "RequestLatency"
  dimensions          = local.dimensions
  extended_statistic  = "p99"
  unit                = "Milliseconds"
  period              = var.period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_p99_threshold_ms
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# ElastiCache publishes CacheHitRate per node (CacheClusterId <group>-001, … or, in cluster mode,
# <group>-0001-001, … per shard); the primaries take the reads, but after a failover a replica
# does, so each node has its alarm. Serverless publishes one series per cache (clusterId).
resource "aws_cloudwatch_metric_alarm" "elasticache_hit_rate" {
  count               = length(var.cache_cluster_ids)
  alarm_name          = "${var.cache_cluster_ids[count.index]}-cache-hit-rate-low"
  alarm_description   = "ElastiCache CacheHitRate of ${var.cache_cluster_ids[count.index]} below ${var.threshold}%"
  namespace           = "AWS/ElastiCache"
  metric_name         = "CacheHitRate"
  dimensions          = { (var.cache_dimension) = var.cache_cluster_ids[count.index] }
  statistic           = "Average"
  period              = var.period_seconds
  comparison_operator = "LessThanThreshold"
  threshold           = var.threshold
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# The fleet as the balancer sees it: fewer instances passing /health than the group's minimum
# (an instance failing its checks, or the group unable to replace one) for two minutes.
resource "aws_cloudwatch_metric_alarm" "healthy_hosts" {
  alarm_name          = "${var.name}-healthy-hosts-low"
  alarm_description   = "Fewer than ${var.min_healthy_hosts} cacheload servers pass the load balancer's /health check"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { TargetGroup = var.target_group_arn_suffix, LoadBalancer = var.balancer_arn_suffix }
  statistic           = "Minimum"
  period              = 60
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_healthy_hosts
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  # No datapoint means no healthy target reported at all: that is the worst case, not a quiet one.
  treat_missing_data = "breaching"
  alarm_actions      = [aws_sns_topic.alarms.arn]
  ok_actions         = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = templatefile("${path.module}/../../../dashboards/cloudwatch/cacheload.json.tftpl", {
    region               = var.region
    environment          = var.environment
    namespace            = var.namespace
    service              = var.service
    threshold            = var.threshold
    replication_group_id = var.replication_group_id
    cache_dimension      = var.cache_dimension
    db_instance_id       = var.db_instance_id
    hit_ratio_alarm_arn  = aws_cloudwatch_metric_alarm.hit_ratio.arn
    # The balancer's and the target group's dimensions, and the fleet's alarm.
    balancer_arn_suffix     = var.balancer_arn_suffix
    target_group_arn_suffix = var.target_group_arn_suffix
    healthy_hosts_alarm_arn = aws_cloudwatch_metric_alarm.healthy_hosts.arn
  })
}
