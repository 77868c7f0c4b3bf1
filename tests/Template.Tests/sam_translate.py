#!/usr/bin/env python3
"""Deploys template.yaml on paper: what CloudFormation does with it for one set of parameter values.

Usage: sam_translate.py TEMPLATE '{"case": {"Param": "value", "ListParam": ["a", "b"], ...}, ...}'

1. Parameters: every given name must exist; values are checked against Type, AllowedValues, AllowedPattern,
   MinValue/MaxValue; a parameter without Default must be given. Failures are listed, not fatal.
2. Rules: every rule is evaluated (RuleCondition, Assertions) as CloudFormation does when it creates a change set.
3. AWS::LanguageExtensions: a logical id that two items of a Fn::ForEach would both produce is refused with SAM
   CLI's message (foreach_collisions; cfn-lint would let the later item overwrite it). Then Fn::ForEach is expanded by
   cfn-lint's implementation of the transform, with the parameter values as the collection (cfn-lint reads the
   collection from the parameter's Default, so the given values are written there first).
4. AWS::Serverless-2016-10-31: AWS's own translator (samtranslator) turns SAM resources into CloudFormation. CodeUri
   "." becomes an S3 URI, as `sam package`/`sam deploy` do before the transform runs.
5. Conditions are evaluated, resources whose condition is false are dropped, Fn::If picks its branch and
   AWS::NoValue disappears - so the result shows what would actually be created.

Prints one JSON object per case: {"parameterErrors": [...], "ruleFailures": [...], "expanded": {...},
"translated": {...}, "resolved": {...}}, or {"rejected": "why"} when the language extension or the SAM translator
rejects the template.
"""
import copy
import json
import os
import re
import sys

# samtranslator asks boto for the region when none is passed in; no AWS call is made.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

import cfnlint.decode
from cfnlint.template import Template
from cfnlint.template.transforms._language_extensions import language_extension
from samtranslator.translator.transform import transform as sam_transform

STACK_NAME = "msk-clickhouse-test"
PSEUDO = {
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/" + STACK_NAME + "/00000000-0000-0000-0000-000000000000",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}


class NoManagedPolicies:
    """The template attaches no managed policies by name; any lookup would be a template change to review."""

    def load(self):
        return {}


def plain(node):
    """cfn-lint's decoded nodes (dict_node, str_node) as plain Python values."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def parameter_values(template, given):
    errors, values = [], {}
    declared = template.get("Parameters", {})
    for name in given:
        if name not in declared:
            errors.append(f"{name}: not a template parameter")
    for name, spec in declared.items():
        kind = spec.get("Type", "String")
        if name in given:
            raw = given[name]
            text = ",".join(raw) if isinstance(raw, list) else str(raw)
        elif "Default" in spec:
            text = str(spec["Default"])
        else:
            errors.append(f"{name}: no value and no Default")
            continue
        if kind == "CommaDelimitedList":
            value = [item.strip() for item in text.split(",")]
            items = value
        else:
            value = text
            items = [text]
        for item in items:
            allowed = spec.get("AllowedValues")
            if allowed is not None and item not in [str(a) for a in allowed]:
                errors.append(f"{name}: '{item}' is not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            # CloudFormation matches a CommaDelimitedList's pattern against each item.
            if pattern is not None and kind in ("String", "CommaDelimitedList") and not re.fullmatch(pattern, item):
                errors.append(f"{name}: '{item}' does not match {pattern}")
            if kind == "Number":
                try:
                    number = float(item)
                except ValueError:
                    errors.append(f"{name}: '{item}' is not a number")
                    continue
                if "MinValue" in spec and number < float(spec["MinValue"]):
                    errors.append(f"{name}: {item} is below MinValue {spec['MinValue']}")
                if "MaxValue" in spec and number > float(spec["MaxValue"]):
                    errors.append(f"{name}: {item} is above MaxValue {spec['MaxValue']}")
        values[name] = value
    return errors, values


class Evaluator:
    def __init__(self, template, values):
        self.values = {**PSEUDO, **values}
        self.conditions = template.get("Conditions", {})
        self.cache = {}

    def condition(self, name):
        if name not in self.cache:
            self.cache[name] = bool(self.value(self.conditions[name]))
        return self.cache[name]

    def value(self, node):
        """Evaluates the intrinsics that conditions and rules use; anything else is returned unevaluated."""
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref" and isinstance(arg, str) and arg in self.values:
                return self.values[arg]
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::Equals":
                return str(self.value(arg[0])) == str(self.value(arg[1]))
            if fn == "Fn::Not":
                return not self.value(arg[0])
            if fn == "Fn::And":
                return all(self.value(a) for a in arg)
            if fn == "Fn::Or":
                return any(self.value(a) for a in arg)
            if fn == "Fn::Join":
                return arg[0].join(str(self.value(a)) for a in self.value(arg[1]))
            if fn == "Fn::Contains":
                return str(self.value(arg[1])) in [str(self.value(a)) for a in self.value(arg[0])]
            if fn == "Fn::EachMemberEquals":
                return all(str(a) == str(self.value(arg[1])) for a in self.value(arg[0]))
            if fn == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
        if isinstance(node, list):
            return [self.value(a) for a in node]
        return node


def rule_failures(template, evaluator):
    failures = []
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not evaluator.value(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions", []):
            if not evaluator.value(assertion["Assert"]):
                failures.append(f"{name}: {assertion.get('AssertDescription', '')}")
    return failures


NO_VALUE = object()


def resolve(node, evaluator):
    """Picks Fn::If branches and drops AWS::NoValue, as CloudFormation does when it creates the resources."""
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::If" in node:
            name, yes, no = node["Fn::If"]
            return resolve(yes if evaluator.condition(name) else no, evaluator)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for k, v in node.items():
            r = resolve(v, evaluator)
            if r is not NO_VALUE:
                out[k] = r
        return concrete(out, evaluator)
    if isinstance(node, list):
        return [r for r in (resolve(v, evaluator) for v in node) if r is not NO_VALUE]
    return node


def is_plain(value):
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def concrete(node, evaluator):
    """Computes Ref (parameters, pseudo parameters), Fn::Sub, Fn::Select, Fn::Split and Fn::Join once their
    arguments are known, so IAM resources and group ids read as the ARNs and names CloudFormation would create.
    References to resources and Fn::GetAtt stay as they are."""
    if len(node) != 1:
        return node
    (fn, arg), = node.items()
    if fn == "Ref" and isinstance(arg, str) and arg in evaluator.values:
        return evaluator.values[arg]
    if fn == "Fn::Select" and isinstance(arg[1], list) and is_plain(arg[1]):
        return arg[1][int(arg[0])]
    if fn == "Fn::Split" and isinstance(arg[1], str):
        return arg[1].split(arg[0])
    if fn == "Fn::Join" and is_plain(arg[1]):
        return arg[0].join(arg[1])
    if fn == "Fn::Sub":
        text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        known = {**{k: v for k, v in evaluator.values.items() if isinstance(v, str)}, **names}
        unresolved = [m for m in re.findall(r"\$\{([^}!]+)\}", text) if not isinstance(known.get(m), str)]
        if not unresolved:
            return re.sub(r"\$\{([^}!]+)\}", lambda m: known[m.group(1)], text)
    return node


class Rejected(Exception):
    pass


def foreach_collisions(template, values):
    """Logical ids that two items of a top-level Fn::ForEach in Resources would both produce. SAM CLI (1.164,
    samcli/lib/cfn_language_extensions/processors/foreach.py) and CloudFormation refuse such a template; cfn-lint's
    expansion lets the later item overwrite the earlier one, so the check is made here, with SAM CLI's message. &{X}
    keeps only [a-zA-Z0-9] of the item, ${X} the item as it is."""
    problems = []
    for key, loop in template.get("Resources", {}).items():
        if not key.startswith("Fn::ForEach::") or not isinstance(loop, list) or len(loop) != 3:
            continue
        identifier, collection, body = loop
        if isinstance(collection, dict) and isinstance(collection.get("Ref"), str):
            collection = values.get(collection["Ref"], [])
        if not isinstance(collection, list) or not isinstance(body, dict):
            continue
        produced = {}
        for item in collection:
            for out_key in body:
                logical_id = out_key.replace("${" + identifier + "}", item).replace(
                    "&{" + identifier + "}", re.sub(r"[^a-zA-Z0-9]", "", item))
                if logical_id in produced:
                    problems.append(
                        f"Fn::ForEach expansion in '{key}' produced logical IDs that conflict with existing entries: "
                        f"{logical_id} ({identifier} '{produced[logical_id]}' and '{item}')")
                else:
                    produced[logical_id] = item
    return problems


def deploy(path, decoded, given):
    source = plain(decoded)
    errors, values = parameter_values(source, given)
    evaluator = Evaluator(source, values)
    failures = rule_failures(source, evaluator)
    result = {"parameterErrors": errors, "ruleFailures": failures}
    if errors:
        return result  # CloudFormation stops at invalid parameter values

    collisions = foreach_collisions(source, values)
    if collisions:
        raise Rejected("AWS::LanguageExtensions rejected the template: " + "; ".join(collisions))

    # cfn-lint's language extension takes list collections from the parameter's Default.
    with_values = copy.deepcopy(decoded)
    for name, value in values.items():
        with_values["Parameters"][name]["Default"] = ",".join(value) if isinstance(value, list) else value
    cfn = Template(path, with_values, ["eu-west-1"])
    ext_matches, expanded = language_extension(cfn)
    if ext_matches:
        raise Rejected("AWS::LanguageExtensions rejected the template: " + "; ".join(str(m) for m in ext_matches))
    expanded = plain(expanded)
    for name in values:  # restore the declared defaults: only the expansion needed them
        expanded["Parameters"][name] = copy.deepcopy(source["Parameters"][name])

    sam_input = copy.deepcopy(expanded)
    sam_input["Transform"] = "AWS::Serverless-2016-10-31"
    for resource in sam_input.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function" and resource.get("Properties", {}).get("CodeUri") == ".":
            resource["Properties"]["CodeUri"] = "s3://sam-artifacts-bucket/msk-clickhouse/bootstrap.zip"
    try:
        translated = sam_transform(sam_input, {**values, "AWS::Region": PSEUDO["AWS::Region"]}, NoManagedPolicies())
    except Exception as e:  # samtranslator raises InvalidDocumentException with the causes inside
        causes = getattr(e, "causes", None) or []
        detail = "; ".join(getattr(c, "message", str(c)) for c in causes) or str(e)
        raise Rejected("the SAM translator rejected the template: " + detail) from e

    resolved = copy.deepcopy(translated)
    resources = {}
    for rid, resource in resolved.get("Resources", {}).items():
        condition = resource.get("Condition")
        if condition is not None and not evaluator.condition(condition):
            continue
        resources[rid] = resolve(resource, evaluator)
    resolved["Resources"] = resources
    result.update({"expanded": expanded, "translated": translated, "resolved": resolved})
    return result


def main():
    """argv[2]: {"case name": {parameter values}, ...}; prints {"case name": result, ...}. A rejected template gives
    {"rejected": "why"} for its case; exit code 1 only when the template cannot be read at all."""
    path, cases = sys.argv[1], json.loads(sys.argv[2])
    decoded, matches = cfnlint.decode.decode(path)
    if matches:
        sys.exit("cannot parse " + path + ": " + "; ".join(str(m) for m in matches))
    results = {}
    for name, given in cases.items():
        try:
            results[name] = deploy(path, decoded, given)
        except Rejected as e:
            results[name] = {"rejected": str(e)}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
