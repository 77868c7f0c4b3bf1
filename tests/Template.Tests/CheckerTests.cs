using System.Text.Json.Nodes;
using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>Each rule fed a small, deliberately broken template must report the problem (so no check passes vacuously).</summary>
public class CheckerTests
{
    private static JsonObject Yaml(string text) => CfnYaml.Parse(text);

    private static void AssertReports(IEnumerable<string> problems, string expectedFragment)
    {
        var list = problems.ToList();
        Assert.True(list.Any(p => p.Contains(expectedFragment, StringComparison.Ordinal)),
            $"expected a problem containing '{expectedFragment}', got:\n  " + string.Join("\n  ", list));
    }

    private const string Header = """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Name: { Type: String }
        """;

    // ---------------------------------------------------------------- YAML short forms
    [Fact]
    public void Yaml_ShortFormTags_BecomeLongForm()
    {
        var t = Yaml("""
            A: !Ref X
            B: !GetAtt Res.Attr.Nested
            C: !Sub "${X}-y"
            D: !If [Cond, !Select [0, !Split [",", !Join [",", [a, b]]]], !Ref AWS::NoValue]
            E: !Condition Cond
            F: !Not [!Equals [!FindInMap [M, K, V], !ImportValue Exported]]
            G: !And [!Or [!Condition C1, !Condition C2], !Condition C3]
            H: !Base64 text
            I: !Cidr [!GetAZs "", 4, 12]
            J: "007"
            K: 007
            L: 2012-10-17
            M: 0.1
            N: true
            """);
        Assert.Equal("""{"Ref":"X"}""", t["A"]!.ToJsonString());
        Assert.Equal("""{"Fn::GetAtt":["Res","Attr.Nested"]}""", t["B"]!.ToJsonString());
        Assert.Equal("""{"Fn::Sub":"${X}-y"}""", t["C"]!.ToJsonString());
        Assert.Equal("""{"Fn::If":["Cond",{"Fn::Select":[0,{"Fn::Split":[",",{"Fn::Join":[",",["a","b"]]}]}]},{"Ref":"AWS::NoValue"}]}""", t["D"]!.ToJsonString());
        Assert.Equal("""{"Condition":"Cond"}""", t["E"]!.ToJsonString());
        Assert.Equal("""{"Fn::Not":[{"Fn::Equals":[{"Fn::FindInMap":["M","K","V"]},{"Fn::ImportValue":"Exported"}]}]}""", t["F"]!.ToJsonString());
        Assert.Equal("""{"Fn::And":[{"Fn::Or":[{"Condition":"C1"},{"Condition":"C2"}]},{"Condition":"C3"}]}""", t["G"]!.ToJsonString());
        Assert.Equal("""{"Fn::Base64":"text"}""", t["H"]!.ToJsonString());
        Assert.Equal("""{"Fn::Cidr":[{"Fn::GetAZs":""},4,12]}""", t["I"]!.ToJsonString());
        Assert.Equal("\"007\"", t["J"]!.ToJsonString());
        Assert.Equal("7", t["K"]!.ToJsonString());
        Assert.Equal("\"2012-10-17\"", t["L"]!.ToJsonString());
        Assert.Equal("0.1", t["M"]!.ToJsonString());
        Assert.Equal("true", t["N"]!.ToJsonString());
    }

    [Fact]
    public void Yaml_UnknownShortFormTag_IsRejected() =>
        Assert.Throws<FormatException>(() => Yaml("A: !Reff X"));

    // ---------------------------------------------------------------- SAM schema
    [Fact]
    public void SamSchema_MisspelledFunctionProperty_IsReported()
    {
        var t = Yaml(Header + """

            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: .
                  Handler: bootstrap
                  Runtime: provided.al2023
                  MemmorySize: 128
            """);
        Assert.NotEmpty(SamSchema.Validate(t));
    }

    [Fact]
    public void SamSchema_UnknownMskEventProperty_IsReported()
    {
        var t = Yaml(Header + """

            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: .
                  Handler: bootstrap
                  Runtime: provided.al2023
                  Events:
                    Msk:
                      Type: MSK
                      Properties:
                        Stream: arn:aws:kafka:eu-west-1:111111111111:cluster/c/u
                        Topics: [t]
                        StartingPosition: LATEST
                        BatchSizeX: 10
            """);
        Assert.NotEmpty(SamSchema.Validate(t));
    }

    [Fact]
    public void SamSchema_MinimalValidFunction_Passes()
    {
        var t = Yaml(Header + """

            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: .
                  Handler: bootstrap
                  Runtime: provided.al2023
            """);
        Assert.Empty(SamSchema.Validate(t));
    }

    // ---------------------------------------------------------------- CloudFormation spec
    private static List<string> Spec(string resources) => TemplateChecker.CheckAgainstSpec(Yaml(Header + "\nResources:\n" + resources), CfnSpec.Installed);

    [Fact]
    public void Checker_UnknownResourceType_IsReported() =>
        AssertReports(Spec("""
              Bad:
                Type: AWS::EC2::SecurityGroupz
                Properties: { GroupDescription: x }
            """), "unknown resource type 'AWS::EC2::SecurityGroupz'");

    [Fact]
    public void Checker_UnknownProperty_IsReported() =>
        AssertReports(Spec("""
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties: { GroupDescription: x, VpcIdd: vpc-1 }
            """), "unknown property 'VpcIdd'");

    [Fact]
    public void Checker_UnknownNestedProperty_IsReported() =>
        AssertReports(Spec("""
              Esm:
                Type: AWS::Lambda::EventSourceMapping
                Properties:
                  FunctionName: f
                  AmazonManagedKafkaEventSourceConfig:
                    SchemaRegistryConfig:
                      SchemaRegistryUri: https://registry
            """), "unknown property 'SchemaRegistryUri'");

    [Fact]
    public void Checker_UnknownPropertyInsideFnIfBranch_IsReported() =>
        AssertReports(Spec("""
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: x
                  SecurityGroupEgress: !If
                    - C
                    - [{ IpProtocol: tcp, FromPort: 1, ToPort: 1, CidrIpp: 10.0.0.0/8 }]
                    - !Ref AWS::NoValue
            """), "unknown property 'CidrIpp'");

    [Fact]
    public void Checker_MissingRequiredProperty_IsReported() =>
        AssertReports(Spec("""
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties: { VpcId: vpc-1 }
            """), "missing required property 'GroupDescription'");

    [Fact]
    public void Checker_MissingRequiredNestedProperty_IsReported() =>
        AssertReports(Spec("""
              Role:
                Type: AWS::IAM::Role
                Properties:
                  AssumeRolePolicyDocument: {}
                  Policies:
                    - PolicyName: p
            """), "missing required property 'PolicyDocument'");

    [Fact]
    public void Checker_MissingPropertiesBlockWithRequiredProperties_IsReported() =>
        AssertReports(Spec("""
              Sg:
                Type: AWS::EC2::SecurityGroup
            """), "missing required property 'GroupDescription'");

    [Fact]
    public void Checker_ListGivenForObjectProperty_IsReported() =>
        AssertReports(Spec("""
              Esm:
                Type: AWS::Lambda::EventSourceMapping
                Properties:
                  FunctionName: f
                  DestinationConfig: [a]
            """), "expected an object");

    [Fact]
    public void Checker_UnknownGetAttAttribute_IsReported() =>
        AssertReports(Spec("""
              Eip:
                Type: AWS::EC2::EIP
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: !GetAtt Eip.PublicIpAddress
            """), "has no attribute 'PublicIpAddress'");

    [Fact]
    public void Checker_UnknownGetAttAttributeInSub_IsReported() =>
        AssertReports(Spec("""
              Eip:
                Type: AWS::EC2::EIP
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: !Sub "ip ${Eip.Address}"
            """), "has no attribute 'Address'");

    [Fact]
    public void Checker_GetAttOnSamFunction_IsCheckedAgainstLambdaFunction() =>
        AssertReports(Spec("""
              Fn:
                Type: AWS::Serverless::Function
                Properties: { CodeUri: ., Handler: bootstrap, Runtime: provided.al2023 }
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: !GetAtt Fn.FunctionArn
            """), "(AWS::Lambda::Function) has no attribute 'FunctionArn'");

    [Fact]
    public void Checker_UnknownResourceAttribute_IsReported() =>
        AssertReports(Spec("""
              Sg:
                Type: AWS::EC2::SecurityGroup
                Condtion: C
                Properties: { GroupDescription: x }
            """), "unknown resource attribute 'Condtion'");

    [Fact]
    public void Checker_ValidResources_PassSpecCheck() =>
        Assert.Empty(Spec("""
              Eip:
                Type: AWS::EC2::EIP
                Properties: { Domain: vpc }
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: !GetAtt Eip.PublicIp
                  SecurityGroupEgress:
                    - { IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0 }
            """));

    // ---------------------------------------------------------------- references
    private static List<string> Refs(string body) => TemplateChecker.CheckReferences(Yaml(Header + "\n" + body));

    [Fact]
    public void Checker_RefToUnknownName_IsReported() =>
        AssertReports(Refs("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties: { GroupDescription: !Ref Nmae }
            """), "Ref to unknown 'Nmae'");

    [Fact]
    public void Checker_GetAttOnUnknownResource_IsReported() =>
        AssertReports(Refs("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties: { GroupDescription: !GetAtt Missing.Arn }
            """), "Fn::GetAtt on unknown resource 'Missing'");

    [Fact]
    public void Checker_SubVariableUnknown_IsReported() =>
        AssertReports(Refs("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties: { GroupDescription: !Sub "${Name}-${AWS::Region}-${Typo}-${!Literal}" }
            """), "'${Typo}'");

    [Fact]
    public void Checker_SubVariableFromLocalMap_IsAccepted() =>
        Assert.Empty(Refs("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: !Sub ["${Local}-${Name}-${Sg.GroupId}", { Local: x }]
            """));

    [Fact]
    public void Checker_UnknownConditionInIf_IsReported() =>
        AssertReports(Refs("""
            Conditions:
              Real: !Equals [!Ref Name, x]
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Condition: Real
                Properties: { GroupDescription: !If [Imaginary, a, b] }
            """), "Fn::If with unknown condition 'Imaginary'");

    [Fact]
    public void Checker_UnknownResourceCondition_IsReported() =>
        AssertReports(Refs("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Condition: Nope
                Properties: { GroupDescription: x }
            """), "unknown condition 'Nope'");

    [Fact]
    public void Checker_ConditionReferencingResource_IsReported() =>
        AssertReports(Refs("""
            Conditions:
              Bad: !Equals [!Ref Sg, x]
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties: { GroupDescription: x }
            """), "conditions can only Ref parameters");

    [Fact]
    public void Checker_DependsOnUnknownResource_IsReported() =>
        AssertReports(Refs("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                DependsOn: [Ghost]
                Properties: { GroupDescription: x }
            """), "DependsOn: unknown resource 'Ghost'");

    // ---------------------------------------------------------------- IAM
    private static List<string> Iam(string statements) => TemplateChecker.CheckIamWildcards(Yaml(Header + """

        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument: {}
              Policies:
                - PolicyName: p
                  PolicyDocument:
                    Version: "2012-10-17"
                    Statement:

        """ + statements), TemplateTests.ActionsAllowedOnStar);

    [Fact]
    public void Checker_StarResourceForSecretsManager_IsReported() =>
        AssertReports(Iam("""
                          - Effect: Allow
                            Action: secretsmanager:GetSecretValue
                            Resource: "*"
            """), "'secretsmanager:GetSecretValue' is granted on Resource \"*\"");

    [Fact]
    public void Checker_StarResourceHiddenInFnIf_IsReported() =>
        AssertReports(Iam("""
                          - !If
                            - C
                            - Effect: Allow
                              Action: [sqs:SendMessage]
                              Resource: ["arn:aws:sqs:eu-west-1:111111111111:q", "*"]
                            - !Ref AWS::NoValue
            """), "'sqs:SendMessage' is granted on Resource \"*\"");

    [Fact]
    public void Checker_WildcardAction_IsReported() =>
        AssertReports(Iam("""
                          - Effect: Allow
                            Action: kafka-cluster:*
                            Resource: arn:aws:kafka:eu-west-1:111111111111:cluster/c/u
            """), "wildcard action 'kafka-cluster:*'");

    [Fact]
    public void Checker_Ec2NetworkInterfaceActionsOnStar_AreAllowed() =>
        Assert.Empty(Iam("""
                          - Effect: Allow
                            Action: [ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface]
                            Resource: "*"
            """));

    [Fact]
    public void Checker_SamFunctionInlinePolicyWithStar_IsReported()
    {
        var t = Yaml(Header + """

            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: .
                  Handler: bootstrap
                  Runtime: provided.al2023
                  Policies:
                    - Statement:
                        - Effect: Allow
                          Action: s3:PutObject
                          Resource: "*"
            """);
        AssertReports(TemplateChecker.CheckIamWildcards(t, TemplateTests.ActionsAllowedOnStar), "'s3:PutObject'");
    }

    // ---------------------------------------------------------------- secrets
    [Fact]
    public void Checker_PasswordParameterWithDefault_IsReported()
    {
        var t = Yaml("""
            Parameters:
              ClickHousePassword: { Type: String, Default: hunter2, NoEcho: true }
            Resources: {}
            """);
        AssertReports(TemplateChecker.CheckNoPlainSecrets(t, TemplateTests.SecretArnEnvironment), "Parameters.ClickHousePassword");
    }

    [Fact]
    public void Checker_PasswordEnvironmentVariable_IsReported()
    {
        var t = Yaml("""
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Environment:
                    Variables:
                      CLICKHOUSE_PASSWORD: !Ref Pw
                      CLICKHOUSE_PASSWORD_SECRET_ARN: arn:aws:secretsmanager:eu-west-1:111111111111:secret:x
            """);
        var problems = TemplateChecker.CheckNoPlainSecrets(t, TemplateTests.SecretArnEnvironment);
        AssertReports(problems, "Environment.CLICKHOUSE_PASSWORD:");
        Assert.Single(problems);
    }

    [Fact]
    public void Checker_SecretArnParameterWithoutDefault_IsAccepted()
    {
        var t = Yaml("""
            Parameters:
              ClickHousePasswordSecretArn: { Type: String }
              BrokerAuthSecretArn: { Type: String, Default: "" }
              CreateSecretsEndpoint: { Type: String, Default: "false", AllowedValues: ["true", "false"] }
            Resources: {}
            """);
        Assert.Empty(TemplateChecker.CheckNoPlainSecrets(t, TemplateTests.SecretArnEnvironment));
    }

    // ---------------------------------------------------------------- security groups
    [Fact]
    public void Checker_IngressFromAnywhere_IsReported()
    {
        var t = Yaml("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: x
                  SecurityGroupIngress:
                    - { IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0 }
            """);
        AssertReports(TemplateChecker.CheckIngressNeverOpenToWorld(t), "ingress open to 0.0.0.0/0");
    }

    [Fact]
    public void Checker_Ipv6IngressFromAnywhereViaParameterDefault_IsReported()
    {
        var t = Yaml("""
            Parameters:
              Cidr: { Type: String, Default: "::/0" }
            Resources:
              Rule:
                Type: AWS::EC2::SecurityGroupIngress
                Properties: { GroupId: sg-1, IpProtocol: tcp, FromPort: 1, ToPort: 1, CidrIpv6: !Ref Cidr }
            """);
        AssertReports(TemplateChecker.CheckIngressNeverOpenToWorld(t), "ingress open to ::/0");
    }

    [Fact]
    public void Checker_EgressToAnywhere_IsNotAnIngressProblem()
    {
        var t = Yaml("""
            Resources:
              Sg:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: x
                  SecurityGroupEgress:
                    - { IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0 }
            """);
        Assert.Empty(TemplateChecker.CheckIngressNeverOpenToWorld(t));
    }

    // ---------------------------------------------------------------- spec installation
    [Fact]
    public void CfnSpec_MissingFile_FailsNamingTheInstallScript()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => CfnSpec.Load("/nonexistent/db.json.gz"));
        Assert.Contains(CfnSpec.InstallScript, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CfnSpec_Installed_HasTheResourceTypesTheTemplateUses()
    {
        var spec = CfnSpec.Installed;
        Assert.True(spec.ResourceTypeCount > 1000, $"{spec.ResourceTypeCount} resource types");
        Assert.True(spec.TryGetProperties("AWS::Lambda::EventSourceMapping", out var esm));
        Assert.True(esm.TryGetProperty("ProvisionedPollerConfig", out _));
        Assert.Contains("PublicIp", spec.Attributes("AWS::EC2::EIP"));
    }
}
