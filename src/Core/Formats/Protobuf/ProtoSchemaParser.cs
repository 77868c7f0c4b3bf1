namespace MskClickHouse.Core.Formats.Protobuf;

/// <summary>
/// Parses the .proto text a registry returns (proto2 and proto3): package, messages with nested messages and enums,
/// scalar/enum/message fields, repeated, map&lt;K,V&gt;, oneof, proto3 'optional'; options, reserved ranges,
/// extensions, services and imports are read past. Types resolve by protobuf's scoping rules within the same text;
/// google.protobuf.Timestamp is known without its import. Groups are not supported (deprecated since proto2).
/// </summary>
public static class ProtoSchemaParser
{
    public sealed record ProtoFile(string Package, IReadOnlyList<ProtoMessage> Messages, bool Proto3);

    public static ProtoFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = new ProtoTokenizer(text);
        var package = string.Empty;
        var proto3 = false;
        var messages = new List<ProtoMessage>();
        var types = new Dictionary<string, object>(StringComparer.Ordinal);
        var fields = new List<ProtoField>();
        while (!t.AtEnd)
        {
            var token = t.Next();
            switch (token)
            {
                case "syntax" or "edition":
                    t.Expect("=");
                    proto3 = t.Next() == "\"proto3";
                    t.Expect(";");
                    break;
                case "package":
                    package = t.Next();
                    t.Expect(";");
                    break;
                case "message":
                    messages.Add(ParseMessage(t, package, types, fields, proto3));
                    break;
                case "enum":
                    ParseEnum(t, package, types);
                    break;
                case ";":
                    break;
                default: // import, option, service, extend
                    t.SkipStatement();
                    break;
            }
        }

        foreach (var f in fields)
        {
            Resolve(f, types);
        }

        return new ProtoFile(package, messages, proto3);
    }

    private static string Qualify(string scope, string name) => scope.Length == 0 ? name : scope + "." + name;

    private static ProtoMessage ParseMessage(ProtoTokenizer t, string scope, Dictionary<string, object> types, List<ProtoField> allFields, bool proto3)
    {
        var name = t.Next();
        var message = new ProtoMessage(Qualify(scope, name));
        types[message.FullName] = message;
        t.Expect("{");
        while (!t.Accept("}"))
        {
            var token = t.Next();
            switch (token)
            {
                case "message":
                    message.Nested.Add(ParseMessage(t, message.FullName, types, allFields, proto3));
                    break;
                case "enum":
                    ParseEnum(t, message.FullName, types);
                    break;
                case "oneof":
                    t.Next();
                    t.Expect("{");
                    while (!t.Accept("}"))
                    {
                        var first = t.Next();
                        if (first == "option")
                        {
                            t.SkipStatement();
                            continue;
                        }

                        AddField(message, ParseField(t, first, message.FullName, repeated: false, presence: true), allFields);
                    }

                    break;
                case "option" or "reserved" or "extensions" or "extend":
                    t.SkipStatement();
                    break;
                case ";":
                    break;
                case "map":
                    AddField(message, ParseMap(t, message, types, allFields), allFields);
                    break;
                case "repeated":
                    AddField(message, ParseField(t, t.Next(), message.FullName, repeated: true, presence: false), allFields);
                    break;
                case "optional":
                    AddField(message, ParseField(t, t.Next(), message.FullName, repeated: false, presence: true), allFields);
                    break;
                case "required":
                    AddField(message, ParseField(t, t.Next(), message.FullName, repeated: false, presence: true), allFields);
                    break;
                case "group":
                    throw new ProtoSchemaException($"line {t.Line}: groups are not supported ({message.FullName})");
                default:
                    // proto3 singular field (no label): implicit presence; proto2 fields always have a label.
                    AddField(message, ParseField(t, token, message.FullName, repeated: false, presence: !proto3), allFields);
                    break;
            }
        }

        var small = new short[256];
        Array.Fill(small, (short)-1);
        for (var i = 0; i < message.Fields.Count; i++)
        {
            var n = message.Fields[i].Number;
            if (n < small.Length)
            {
                small[n] = (short)i;
            }
            else
            {
                message.FieldsByNumber[n] = i;
            }
        }

        message.SmallNumbers = small;
        return message;
    }

    private static void AddField(ProtoMessage message, ProtoField field, List<ProtoField> all)
    {
        message.Fields.Add(field);
        all.Add(field);
    }

    private static ProtoField ParseField(ProtoTokenizer t, string type, string scope, bool repeated, bool presence)
    {
        if (type == "group")
        {
            throw new ProtoSchemaException($"line {t.Line}: groups are not supported ({scope})");
        }

        var name = t.Next();
        t.Expect("=");
        var numberText = t.Next();
        if (!int.TryParse(numberText, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new ProtoSchemaException($"line {t.Line}: field '{name}' has number '{numberText}'");
        }

        if (t.Accept("["))
        {
            while (t.Next() != "]")
            {
            }
        }

        t.Expect(";");
        var kind = Scalar(type);
        return new ProtoField
        {
            Name = name,
            Number = number,
            JsonNameWithComma = JsonValues.MemberName(name),
            Kind = kind ?? ProtoKind.Message,
            TypeName = kind is null ? type : null,
            Scope = scope,
            Repeated = repeated,
            HasPresence = presence && !repeated,
        };
    }

    private static ProtoField ParseMap(ProtoTokenizer t, ProtoMessage owner, Dictionary<string, object> types, List<ProtoField> all)
    {
        t.Expect("<");
        var keyType = t.Next();
        t.Expect(",");
        var valueType = t.Next();
        t.Expect(">");
        var field = ParseField(t, "map", owner.FullName, repeated: true, presence: false);
        var entry = new ProtoMessage(owner.FullName + "." + field.Name + "Entry") { IsMapEntry = true };
        var key = new ProtoField { Name = "key", Number = 1, JsonNameWithComma = JsonValues.MemberName("key"), Kind = Scalar(keyType) ?? throw new ProtoSchemaException($"map key type '{keyType}' is not a scalar"), Scope = owner.FullName };
        var value = new ProtoField { Name = "value", Number = 2, JsonNameWithComma = JsonValues.MemberName("value"), Kind = Scalar(valueType) ?? ProtoKind.Message, TypeName = Scalar(valueType) is null ? valueType : null, Scope = owner.FullName };
        entry.Fields.Add(key);
        entry.Fields.Add(value);
        all.Add(value);
        entry.SmallNumbers = [-1, 0, 1];
        return new ProtoField
        {
            Name = field.Name,
            Number = field.Number,
            JsonNameWithComma = field.JsonNameWithComma,
            Kind = ProtoKind.Message,
            Repeated = true,
            IsMap = true,
            Message = entry,
            Scope = owner.FullName,
        };
    }

    private static void ParseEnum(ProtoTokenizer t, string scope, Dictionary<string, object> types)
    {
        var e = new ProtoEnum(Qualify(scope, t.Next()));
        types[e.FullName] = e;
        t.Expect("{");
        var first = true;
        while (!t.Accept("}"))
        {
            var name = t.Next();
            if (name is "option" or "reserved")
            {
                t.SkipStatement();
                continue;
            }

            if (name == ";")
            {
                continue;
            }

            t.Expect("=");
            var numberText = t.Next();
            if (!int.TryParse(numberText, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                throw new ProtoSchemaException($"line {t.Line}: enum value '{name}' has number '{numberText}'");
            }

            if (t.Accept("["))
            {
                while (t.Next() != "]")
                {
                }
            }

            t.Expect(";");
            var json = JsonValues.Quoted(name);
            e.Symbols.TryAdd(number, json);
            if (first)
            {
                e.Default = json;
                first = false;
            }
        }
    }

    private static void Resolve(ProtoField f, Dictionary<string, object> types)
    {
        if (f.TypeName is not { } name)
        {
            return;
        }

        if (name is ".google.protobuf.Timestamp" or "google.protobuf.Timestamp")
        {
            f.Kind = ProtoKind.Timestamp;
            return;
        }

        object? found = null;
        if (name.StartsWith('.'))
        {
            types.TryGetValue(name[1..], out found);
        }
        else
        {
            // Innermost scope outwards: a.b.C looks in a.b.C.name, a.b.name, a.name, name.
            var scope = f.Scope;
            while (found is null)
            {
                if (types.TryGetValue(Qualify(scope, name), out found) || scope.Length == 0)
                {
                    break;
                }

                var dot = scope.LastIndexOf('.');
                scope = dot < 0 ? string.Empty : scope[..dot];
            }
        }

        switch (found)
        {
            case ProtoMessage m:
                f.Kind = ProtoKind.Message;
                f.Message = m;
                break;
            case ProtoEnum e:
                f.Kind = ProtoKind.Enum;
                f.Enum = e;
                break;
            default:
                throw new ProtoSchemaException($"field '{f.Name}' in {f.Scope} has type '{name}', which is not defined in the schema (imports other than google/protobuf/timestamp.proto are not resolved)");
        }
    }

    private static ProtoKind? Scalar(string type) => type switch
    {
        "double" => ProtoKind.Double,
        "float" => ProtoKind.Float,
        "int64" => ProtoKind.Int64,
        "uint64" => ProtoKind.UInt64,
        "int32" => ProtoKind.Int32,
        "fixed64" => ProtoKind.Fixed64,
        "fixed32" => ProtoKind.Fixed32,
        "bool" => ProtoKind.Bool,
        "string" => ProtoKind.String,
        "bytes" => ProtoKind.Bytes,
        "uint32" => ProtoKind.UInt32,
        "sfixed32" => ProtoKind.SFixed32,
        "sfixed64" => ProtoKind.SFixed64,
        "sint32" => ProtoKind.SInt32,
        "sint64" => ProtoKind.SInt64,
        _ => null,
    };
}
