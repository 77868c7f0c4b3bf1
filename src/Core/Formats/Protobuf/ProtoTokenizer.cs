using System.Text;

namespace MskClickHouse.Core.Formats.Protobuf;

/// <summary>Splits .proto text into tokens: identifiers (dotted), numbers, quoted strings and single symbols; skips comments.</summary>
internal sealed class ProtoTokenizer
{
    private readonly string _text;
    private int _at;
    private string? _peeked;

    public ProtoTokenizer(string text) => _text = text;

    public int Line { get; private set; } = 1;

    public bool AtEnd => Peek() is null;

    public string? Peek() => _peeked ??= ReadToken();

    public string Next()
    {
        var t = Peek() ?? throw new ProtoSchemaException($"line {Line}: unexpected end of the .proto text");
        _peeked = null;
        return t;
    }

    public void Expect(string token)
    {
        var t = Next();
        if (t != token)
        {
            throw new ProtoSchemaException($"line {Line}: expected '{token}', found '{t}'");
        }
    }

    public bool Accept(string token)
    {
        if (Peek() == token)
        {
            _peeked = null;
            return true;
        }

        return false;
    }

    /// <summary>Skips a statement up to and including its ';', or a '{...}' block (nested braces counted).</summary>
    public void SkipStatement()
    {
        var depth = 0;
        while (true)
        {
            var t = Next();
            if (t == "{")
            {
                depth++;
            }
            else if (t == "}")
            {
                if (--depth <= 0)
                {
                    return;
                }
            }
            else if (t == ";" && depth == 0)
            {
                return;
            }
        }
    }

    private string? ReadToken()
    {
        while (_at < _text.Length)
        {
            var c = _text[_at];
            if (c == '\n')
            {
                Line++;
                _at++;
            }
            else if (char.IsWhiteSpace(c))
            {
                _at++;
            }
            else if (c == '/' && _at + 1 < _text.Length && _text[_at + 1] == '/')
            {
                while (_at < _text.Length && _text[_at] != '\n')
                {
                    _at++;
                }
            }
            else if (c == '/' && _at + 1 < _text.Length && _text[_at + 1] == '*')
            {
                var end = _text.IndexOf("*/", _at + 2, StringComparison.Ordinal);
                var stop = end < 0 ? _text.Length : end + 2;
                Line += _text.AsSpan(_at, stop - _at).Count('\n');
                _at = stop;
            }
            else
            {
                break;
            }
        }

        if (_at >= _text.Length)
        {
            return null;
        }

        var start = _at;
        var first = _text[_at];
        if (char.IsAsciiLetterOrDigit(first) || first is '_' or '.' or '-' or '+')
        {
            _at++;
            while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] is '_' or '.'))
            {
                _at++;
            }

            return _text[start.._at];
        }

        if (first is '"' or '\'')
        {
            var sb = new StringBuilder();
            _at++;
            while (_at < _text.Length && _text[_at] != first)
            {
                if (_text[_at] == '\\' && _at + 1 < _text.Length)
                {
                    _at++;
                }

                sb.Append(_text[_at++]);
            }

            _at++;
            return "\"" + sb;
        }

        _at++;
        return first.ToString();
    }
}
