output "hit_ratio_alarm_name" {
  description = "Name of the hit-ratio alarm."
  value       = aws_cloudwatch_metric_alarm.hit_ratio.alarm_name
}

output "hit_ratio_alarm_arn" {
  description = "ARN of the hit-ratio alarm."
  value       = aws_cloudwatch_metric_alarm.hit_ratio.arn
}

output "latency_alarm_name" {
  description = "Name of the p99 latency alarm."
  value       = aws_cloudwatch_metric_alarm.latency_p99.alarm_name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "healthy_hosts_alarm_name" {
  description = "Name of the alarm on the balancer's healthy hosts."
  value       = aws_cloudwatch_metric_alarm.healthy_hosts.alarm_name
}
