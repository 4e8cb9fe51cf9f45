"""The plan's steps for the stacks and the page: `sam build`, the website's own stack, the API's deploy with the
page's origin allowed, its outputs, and the upload of web/ with a CloudFront invalidation."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mysfits import samconfig
from mysfits.aws import build_tools, stack_state, website
from mysfits.aws.steps import Context, Overrides, Resolved, Results, Step, root
from mysfits.cli_base import CliError

API_URL_OUTPUT = "RecommendationsApiUrl"
API_ORIGIN_OUTPUT = "ApiAllowedOrigin"
ORIGIN_PARAMETER = "AllowedOrigin"


@dataclass(frozen=True)
class StackOutputs:
    values: Mapping[str, str]


@dataclass(frozen=True)
class LoggingRole:
    """CreateApiGatewayLoggingRole for this deploy (see mysfits.aws.stack_state.logging_role_choice)."""

    value: str


@dataclass(frozen=True)
class WebsiteStack:
    """The website stack's outputs, after its deploy succeeded."""

    values: Mapping[str, str]


@dataclass(frozen=True)
class WebsiteRefused:
    """The website stack's deploy failed (and SAM deleted what it had created); the API is deployed regardless."""

    stack: str
    exit_code: int


class WebsiteNotDeployed(Exception):
    """The API is deployed but the page is not: the run ends with exit code 1 and says what to do."""


def api_steps(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    """With --deploy-web the page's stack goes first, so that the API's deploy can allow its origin; its failure
    (a new account may be refused CloudFront) is noted and the API is deployed all the same."""
    if not args.deploy_api:
        return []
    overrides = "the samconfig overrides with SageMakerEndpointName=" + args.endpoint_name
    stack = resolved.api_stack
    web_stack = website.stack_name(stack)
    website_steps = [
        Step(
            f"run `sam deploy --config-env {website.CONFIG_ENV}` of {website.TEMPLATE} (stack {web_stack}: the "
            "page's private bucket and CloudFront distribution; a failed create is deleted again, and the API's "
            "deploy goes on without it)",
            _deploy_website,
        ),
        Step(
            f"write the website's {website.URL_OUTPUT} as {ORIGIN_PARAMETER} into {args.samconfig}, so the API accepts "
            f"calls from the page (if the website failed, {ORIGIN_PARAMETER} stays as it is)",
            _allow_website_origin,
        ),
    ]
    stacks = f"{web_stack} and {stack}" if args.deploy_web else stack
    return [
        Step(f"run `sam build` in {root(args)}", _sam_build),
        Step(
            f"cloudformation:DescribeStacks {stacks}: a stack left in {stack_state.FAILED_CREATE} by a failed first "
            "create is deleted (cloudformation:DeleteStack, and waited for), saying so, since CloudFormation cannot "
            f"update it; then {stack_state.LOGGING_ROLE_PARAMETER}: samconfig's value, else the deployed stack's, "
            "else apigateway:GetAccount decides (a region's existing logging role is left alone)",
            _prepare_stacks,
        ),
        *(website_steps if args.deploy_web else []),
        Step(
            f"run `sam deploy` (stack {stack}, region {resolved.region or '<region>'}) with --parameter-overrides = "
            f"{overrides} and {stack_state.LOGGING_ROLE_PARAMETER} as decided above (a CLI override list replaces "
            "samconfig's, so all are passed); --on-failure DELETE, so that a failed create is deleted and the next "
            "run starts clean; without a terminal, --no-confirm-changeset",
            _sam_deploy,
        ),
        Step(f"cloudformation:DescribeStacks {stack}: read its outputs and print {API_URL_OUTPUT}", _read_outputs),
    ]


def web_steps(args: argparse.Namespace) -> list[Step]:
    if not args.deploy_web:
        return []
    return [
        Step(
            f"s3:PutObject every file under {args.web_dir} into the website stack's {website.BUCKET_OUTPUT}, "
            "index.html last; "
            f"config.json is generated from {args.web_dir / 'config.json'} with apiBaseUrl = {API_URL_OUTPUT} "
            "(the file in the repository is not changed), and index.html and each Mysfit's m/<slug>.html with "
            f"link-preview URLs under {website.URL_OUTPUT}",
            _upload_site,
        ),
        Step(
            f"cloudfront:CreateInvalidation {' '.join(website.INVALIDATION_PATHS)} on the website stack's "
            f"{website.DISTRIBUTION_OUTPUT}, so visitors get the new page; then print {website.URL_OUTPUT}",
            _invalidate,
        ),
    ]


def sam_binary() -> str:
    found = build_tools.sam_binary()
    if not found:
        raise CliError("the SAM CLI is not installed: pip install aws-sam-cli (it is in the [dev] extra)")
    return found


def _sam(ctx: Context, words: list[str]) -> None:
    code = ctx.toolkit.runner([sam_binary(), *words], root(ctx.args))
    if code != 0:
        raise CliError(f"sam {words[0]} failed with exit code {code}; its output is above")


def _sam_build(ctx: Context, _results: Results) -> None:
    _sam(ctx, ["build"])


def _unattended(ctx: Context) -> list[str]:
    """samconfig.toml asks SAM to confirm each change set; with nobody at a terminal that prompt would wait forever.
    The plan was printed (and --dry-run shows it in full), so an unattended run goes on without asking."""
    if ctx.toolkit.interactive():
        return []
    ctx.say("  no terminal to confirm the change set at: passing --no-confirm-changeset")
    return ["--no-confirm-changeset"]


def _prepare_stacks(ctx: Context, _results: Results) -> LoggingRole:
    cfn, stack = ctx.aws.cloudformation, ctx.resolved.api_stack
    if ctx.args.deploy_web:
        stack_state.clear_failed_create(cfn, website.stack_name(stack), ctx.say, ctx.toolkit.sleep)
    stack_state.clear_failed_create(cfn, stack, ctx.say, ctx.toolkit.sleep)
    configured = samconfig.read_overrides(ctx.args.samconfig).get(stack_state.LOGGING_ROLE_PARAMETER)
    value, why = stack_state.logging_role_choice(cfn, ctx.aws.apigateway, stack, configured)
    ctx.say(f"  {stack_state.LOGGING_ROLE_PARAMETER}={value}: {why}")
    return LoggingRole(value)


def _sam_deploy(ctx: Context, results: Results) -> None:
    values = dict(results.get(Overrides).values)
    values[stack_state.LOGGING_ROLE_PARAMETER] = results.get(LoggingRole).value
    overrides = samconfig.cli_overrides(values)
    words = ["deploy", "--region", str(ctx.resolved.region), "--on-failure", "DELETE", *_unattended(ctx)]
    words += ["--parameter-overrides", *overrides]
    if ctx.args.api_stack:
        words += ["--stack-name", ctx.args.api_stack]
    _sam(ctx, words)


def _read_outputs(ctx: Context, _results: Results) -> StackOutputs:
    from mysfits.aws.cleanup import stack_outputs

    stack = ctx.resolved.api_stack
    outputs = stack_outputs(ctx.aws.cloudformation, stack)
    if API_URL_OUTPUT not in outputs:
        raise CliError(f"stack {stack} has no {API_URL_OUTPUT} output; is it this project's template.yaml?")
    ctx.say(f"  API: {outputs[API_URL_OUTPUT]}")
    if API_ORIGIN_OUTPUT in outputs:
        ctx.say(f"  it accepts browser calls from: {outputs[API_ORIGIN_OUTPUT]}")
    return StackOutputs(outputs)


def _deploy_website(ctx: Context, _results: Results) -> WebsiteStack | WebsiteRefused:
    """Deploy the page's stack; a failure is handed on, not raised, so that the API is deployed all the same.

    ``--on-failure DELETE`` removes a stack whose creation failed: left in ROLLBACK_COMPLETE it could be neither
    updated nor recreated, and the next run after a CloudFront refusal would fail for that reason instead.
    ``--no-fail-on-empty-changeset`` makes a rerun with nothing new a success.
    """
    from mysfits.aws.cleanup import stack_outputs

    stack = website.stack_name(ctx.resolved.api_stack)
    words = [
        "deploy", "--config-env", website.CONFIG_ENV, "--template-file", website.TEMPLATE, "--stack-name", stack,
        "--region", str(ctx.resolved.region), "--on-failure", "DELETE", "--no-fail-on-empty-changeset",
        *_unattended(ctx),
    ]  # fmt: skip
    code = ctx.toolkit.runner([sam_binary(), *words], root(ctx.args))
    if code != 0:
        ctx.say(f"  the website stack {stack} failed (sam deploy exit code {code}); deploying the API without it")
        return WebsiteRefused(stack, code)
    outputs = stack_outputs(ctx.aws.cloudformation, stack)
    for name in (website.BUCKET_OUTPUT, website.URL_OUTPUT, website.DISTRIBUTION_OUTPUT):
        if name not in outputs:
            raise CliError(f"stack {stack} has no {name} output; is it this project's {website.TEMPLATE}?")
    ctx.say(f"  page: {outputs[website.URL_OUTPUT]} (bucket {outputs[website.BUCKET_OUTPUT]})")
    return WebsiteStack(outputs)


def _allow_website_origin(ctx: Context, results: Results) -> Overrides | None:
    site = results.find(WebsiteStack)
    if site is None:
        kept = results.get(Overrides).values.get(ORIGIN_PARAMETER, "the template's default, *")
        ctx.say(f"  no website: {ORIGIN_PARAMETER} stays {kept}")
        return None
    origin = site.values[website.URL_OUTPUT]
    return Overrides(samconfig.set_override(ctx.args.samconfig, ORIGIN_PARAMETER, origin))


def website_guidance(refused: WebsiteRefused, web_dir: Path) -> str:
    """What to do when the page's stack failed. The usual cause on a new account is CloudFront's verification."""
    return (
        f"the API is deployed, but the website stack {refused.stack} failed (sam deploy exit code "
        f'{refused.exit_code}; its events are above), so {web_dir} was not uploaded. If an event reads "Your '
        'account must be verified before you can add new CloudFront resources", CloudFront is not yet enabled '
        "for this account: open an AWS Support case (Account and billing) that quotes the message, and once AWS "
        "confirms, run the same command again. SAM deleted the failed stack, so the next run creates it afresh. "
        "Any other reason is in the events above"
    )


def _upload_site(ctx: Context, results: Results) -> None:
    refused = results.find(WebsiteRefused)
    if refused is not None:
        raise WebsiteNotDeployed(website_guidance(refused, ctx.args.web_dir))
    site, api_url = results.get(WebsiteStack).values, results.get(StackOutputs).values[API_URL_OUTPUT]
    bucket, web_dir = site[website.BUCKET_OUTPUT], ctx.args.web_dir
    config = website.page_config(web_dir, api_url)
    count = website.upload_site(ctx.aws.s3, web_dir, bucket, config, site[website.URL_OUTPUT])
    ctx.say(f"  uploaded {count} files to s3://{bucket}/ (config.json: apiBaseUrl {api_url})")


def _invalidate(ctx: Context, results: Results) -> None:
    outputs = results.get(WebsiteStack).values
    distribution = outputs.get(website.DISTRIBUTION_OUTPUT)
    if distribution:
        invalidation = website.invalidate_site(ctx.aws.cloudfront, distribution)
        ctx.say(f"  invalidation {invalidation} of {', '.join(website.INVALIDATION_PATHS)} on {distribution} started")
    else:
        ctx.say(f"  no {website.DISTRIBUTION_OUTPUT} output: nothing to invalidate")
    ctx.say(f"website: {outputs.get(website.URL_OUTPUT, '(no ' + website.URL_OUTPUT + ' output)')}")
