using System.Text.Json.Nodes;
using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// AWS's own checks, as SAM users run them (`sam validate --lint` is cfn-lint): cfn-lint with the SAM translator and
/// the AWS::LanguageExtensions transform, 0 errors and 0 warnings. A missing cfn-lint fails with the install command.
/// </summary>
public class CfnLintTests
{
    public const string InstallHint = "install it with `pipx install cfn-lint` (README, Prerequisites)";

    private static Tool.Result Lint(string path) =>
        Tool.Run("cfn-lint", ["--format", "parseable", "--", path], InstallHint, TimeSpan.FromMinutes(3));

    [Fact]
    public void CfnLint_TemplateHasNoErrorsAndNoWarnings()
    {
        var version = Tool.Run("cfn-lint", ["--version"], InstallHint);
        TestContext.Current.SendDiagnosticMessage($"cfn-lint {version.Output.Trim()}");

        var run = Lint(Repo.File("template.yaml"));

        Assert.True(run.ExitCode == 0 && run.StandardOutput.Trim().Length == 0, $"cfn-lint exit {run.ExitCode}:\n{run.Output}");
    }

    [Fact]
    public void CfnLint_SamMskEventWithConditionalDestination_IsReportedAsE0001()
    {
        var run = Lint(Repo.Fixture("sam-msk-event-with-conditional-destination.yaml"));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("E0001", run.Output, StringComparison.Ordinal);
        Assert.Contains("DestinationConfig.OnFailure", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Translator_SamMskEventWithConditionalDestination_IsRejected()
    {
        var d = SamTranslation.DeployOne(new Dictionary<string, JsonNode?> { ["DestinationArn"] = "arn:aws:sqs:eu-west-1:123456789012:q" },
            "tests/Template.Tests/Fixtures/sam-msk-event-with-conditional-destination.yaml");

        Assert.NotNull(d.Rejected);
        Assert.Contains("DestinationConfig.OnFailure", d.Rejected, StringComparison.Ordinal);
    }
}
