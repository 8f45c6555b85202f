#!/usr/bin/env python3
"""Prints the hit-ratio and latency alarms as Terraform would create them with the default variables, as JSON.

Reads terraform/ with python-hcl2 and resolves var.* and local.* through the module call in
terraform/main.tf down to the root variables' defaults, so the test suite can compare the
deployed alarm with what `cacheload` pushes. Also prints the arguments the serve unit runs with (the process that pushes).
"""
import json
import re
import sys
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
REFERENCE = re.compile(r"\$\{(var|local)\.([A-Za-z0-9_]+)\}")


def load_dir(directory: Path) -> dict:
    merged: dict = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            for key, value in hcl2.load(handle, serialization_options=OPTIONS).items():
                merged.setdefault(key, []).extend(value)
    return merged


def unquote(key: str) -> str:
    return key.strip('"')


class Scope:
    """A module directory, and the module block that calls it (None for the root)."""

    def __init__(self, directory: Path, call: dict | None, parent: "Scope | None"):
        self.tf = load_dir(directory)
        self.call = call
        self.parent = parent
        self.variables = {unquote(k): v for block in self.tf.get("variable", []) for k, v in block.items()}
        self.locals = {k: v for block in self.tf.get("locals", []) for k, v in block.items()}

    def variable(self, name: str):
        if self.call is not None and name in self.call:
            return self.parent.resolve(self.call[name])
        if name not in self.variables or "default" not in self.variables[name]:
            raise SystemExit(f"var.{name} has no value and no default")
        return self.resolve(self.variables[name]["default"])

    def resolve(self, value):
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, str):
            return value
        whole = REFERENCE.fullmatch(value)
        if whole:
            kind, name = whole.groups()
            return self.variable(name) if kind == "var" else self.resolve(self.locals[name])
        return REFERENCE.sub(lambda m: str(self.variable(m[2]) if m[1] == "var" else self.resolve(self.locals[m[2]])), value)


def module_call(root: Scope, name: str) -> dict:
    for block in root.tf["module"]:
        for key, body in block.items():
            if unquote(key) == name:
                return body
    raise SystemExit(f"module {name} not found")


def resource(scope: Scope, kind: str, name: str) -> dict:
    for block in scope.tf["resource"]:
        for key, body in block.items():
            if unquote(key) == kind:
                for label, definition in body.items():
                    if unquote(label) == name:
                        return definition
    raise SystemExit(f"resource {kind}.{name} not found")


def main() -> None:
    terraform = Path(sys.argv[1] if len(sys.argv) > 1 else "terraform")
    root = Scope(terraform, None, None)
    monitoring = Scope(terraform / "modules/monitoring", module_call(root, "monitoring"), root)
    alarm = resource(monitoring, "aws_cloudwatch_metric_alarm", "hit_ratio")
    latency = resource(monitoring, "aws_cloudwatch_metric_alarm", "latency_p99")
    queries = []
    for query in alarm["metric_query"]:
        entry = {"id": monitoring.resolve(query["id"])}
        if "expression" in query:
            entry["expression"] = monitoring.resolve(query["expression"])
            entry["return_data"] = query.get("return_data", False)
        for metric in query.get("metric", []):
            entry.update({key: monitoring.resolve(metric[key]) for key in ("namespace", "metric_name", "dimensions", "period", "stat")})
        queries.append(entry)

    app = Scope(terraform / "modules/app", module_call(root, "app"), root)
    # The launch template's user data is local.user_data: templatefile("${path.module}/user_data.sh.tftpl", …).
    rendered = app.locals["user_data"]
    template = re.search(r'templatefile\("\$\{path\.module\}/([^"]+)"', rendered)
    user_data = (terraform / "modules/app" / template[1]).read_text()
    serve_line = next(line for line in user_data.splitlines() if line.startswith("ExecStart=") and " serve " in line)
    bindings = {"namespace": app.variable("cloudwatch_namespace"), "service": app.variable("service"),
                "environment": app.variable("environment"), "port": app.variable("port"), "drain_seconds": app.variable("drain_seconds"),
                # main.tf: standalone for a replication group, cluster for cluster mode and Serverless.
                "redis_mode": "standalone" if root.variable("cache_mode") == "replication_group" else "cluster"}
    # $${INSTANCE_ID} is left to systemd (the unit's environment, read from IMDSv2 at boot).
    line = serve_line.removeprefix("ExecStart=").replace("$${INSTANCE_ID}", "i-0123456789abcdef0")
    serve_args = re.sub(r"\$\{(\w+)\}", lambda m: str(bindings.get(m[1], m[0])), line).split()

    print(json.dumps({
        "comparison_operator": monitoring.resolve(alarm["comparison_operator"]),
        "threshold": monitoring.resolve(alarm["threshold"]),
        "evaluation_periods": monitoring.resolve(alarm["evaluation_periods"]),
        "datapoints_to_alarm": monitoring.resolve(alarm["datapoints_to_alarm"]),
        "treat_missing_data": monitoring.resolve(alarm["treat_missing_data"]),
        "metric_queries": queries,
        "serve_args": serve_args,
        "latency": {key: monitoring.resolve(latency[key]) for key in
                    ("namespace", "metric_name", "dimensions", "extended_statistic", "unit", "period", "comparison_operator",
                     "threshold", "evaluation_periods", "datapoints_to_alarm", "treat_missing_data")},
    }, indent=2))


if __name__ == "__main__":
    main()
