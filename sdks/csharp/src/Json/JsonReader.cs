using System;
using System.Text;

namespace Chorus.Worker.Json
{
    /// <summary>
    /// A strict RFC 8259 JSON parser: one value, optionally surrounded by whitespace; escapes including
    /// \uXXXX surrogate pairs; raw control characters in strings, leading zeros, trailing commas and
    /// trailing text are errors. Nesting is bounded by <see cref="MaxDepth"/>.
    /// </summary>
    public sealed class JsonReader
    {
        /// <summary>Deepest nesting of arrays and objects accepted.</summary>
        public const int MaxDepth = 512;

        readonly string s;
        int pos;
        int depth;

        JsonReader(string s) { this.s = s; }

        /// <summary>Parses JSON text; throws <see cref="JsonException"/> naming the offset of the error.</summary>
        public static JsonValue Parse(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            var r = new JsonReader(text);
            r.SkipWs();
            var v = r.ParseValue();
            r.SkipWs();
            if (r.pos != r.s.Length) throw r.Error("unexpected text after the JSON value");
            return v;
        }

        /// <summary>Whether s is exactly one JSON number.</summary>
        public static bool IsNumberText(string s)
        {
            if (string.IsNullOrEmpty(s)) return false;
            var r = new JsonReader(s);
            return r.ScanNumber() && r.pos == s.Length;
        }

        JsonException Error(string what)
        {
            return new JsonException("invalid JSON at offset " + pos + ": " + what);
        }

        void SkipWs()
        {
            while (pos < s.Length)
            {
                char c = s[pos];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
                else break;
            }
        }

        JsonValue ParseValue()
        {
            if (pos >= s.Length) throw Error("unexpected end of input, expected a value");
            char c = s[pos];
            switch (c)
            {
                case '{': return ParseObject();
                case '[': return ParseArray();
                case '"': return JsonValue.String(ParseString());
                case 't': Literal("true"); return JsonValue.True;
                case 'f': Literal("false"); return JsonValue.False;
                case 'n': Literal("null"); return JsonValue.Null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        int start = pos;
                        if (!ScanNumber()) throw Error("malformed number");
                        return JsonValue.RawNumber(s.Substring(start, pos - start));
                    }
                    throw Error("unexpected character '" + Printable(c) + "'");
            }
        }

        static string Printable(char c)
        {
            return c < 0x20 || c == 0x7f ? "\\u" + ((int)c).ToString("x4") : c.ToString();
        }

        void Literal(string word)
        {
            if (string.CompareOrdinal(s, pos, word, 0, word.Length) != 0) throw Error("unexpected character '" + Printable(s[pos]) + "'");
            pos += word.Length;
        }

        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        bool ScanNumber()
        {
            if (pos < s.Length && s[pos] == '-') pos++;
            if (pos >= s.Length) return false;
            if (s[pos] == '0') pos++;
            else if (s[pos] >= '1' && s[pos] <= '9') { while (pos < s.Length && IsDigit(s[pos])) pos++; }
            else return false;
            if (pos < s.Length && s[pos] == '.')
            {
                pos++;
                if (pos >= s.Length || !IsDigit(s[pos])) return false;
                while (pos < s.Length && IsDigit(s[pos])) pos++;
            }
            if (pos < s.Length && (s[pos] == 'e' || s[pos] == 'E'))
            {
                pos++;
                if (pos < s.Length && (s[pos] == '+' || s[pos] == '-')) pos++;
                if (pos >= s.Length || !IsDigit(s[pos])) return false;
                while (pos < s.Length && IsDigit(s[pos])) pos++;
            }
            return true;
        }

        static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

        string ParseString()
        {
            pos++; // opening quote
            int start = pos;
            // Fast path: no escapes.
            while (pos < s.Length)
            {
                char c = s[pos];
                if (c == '"') { pos++; return s.Substring(start, pos - 1 - start); }
                if (c == '\\') break;
                if (c < 0x20) throw Error("raw control character in a string (must be escaped)");
                pos++;
            }
            var sb = new StringBuilder(s, start, pos - start, Math.Max(16, (pos - start) * 2));
            while (true)
            {
                if (pos >= s.Length) throw Error("unterminated string");
                char c = s[pos++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) { pos--; throw Error("raw control character in a string (must be escaped)"); }
                if (c != '\\') { sb.Append(c); continue; }
                if (pos >= s.Length) throw Error("unterminated escape");
                char e = s[pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u': sb.Append(Hex4()); break; // surrogate halves combine naturally in UTF-16
                    default: pos--; throw Error("unknown escape '\\" + Printable(e) + "'");
                }
            }
        }

        char Hex4()
        {
            if (pos + 4 > s.Length) throw Error("truncated \\u escape");
            int v = 0;
            for (int i = 0; i < 4; i++)
            {
                char c = s[pos++];
                int d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
                else { pos--; throw Error("bad hex digit in \\u escape"); }
                v = v * 16 + d;
            }
            return (char)v;
        }

        JsonValue ParseArray()
        {
            if (++depth > MaxDepth) throw Error("nesting deeper than " + MaxDepth);
            pos++;
            var a = JsonValue.NewArray();
            SkipWs();
            if (pos < s.Length && s[pos] == ']') { pos++; depth--; return a; }
            while (true)
            {
                SkipWs();
                a.Items.Add(ParseValue());
                SkipWs();
                if (pos >= s.Length) throw Error("unterminated array");
                char c = s[pos++];
                if (c == ']') break;
                if (c != ',') { pos--; throw Error("expected ',' or ']' in an array"); }
            }
            depth--;
            return a;
        }

        JsonValue ParseObject()
        {
            if (++depth > MaxDepth) throw Error("nesting deeper than " + MaxDepth);
            pos++;
            var o = JsonValue.NewObject();
            SkipWs();
            if (pos < s.Length && s[pos] == '}') { pos++; depth--; return o; }
            while (true)
            {
                SkipWs();
                if (pos >= s.Length || s[pos] != '"') throw Error("expected a member name in double quotes");
                string name = ParseString();
                SkipWs();
                if (pos >= s.Length || s[pos] != ':') throw Error("expected ':' after a member name");
                pos++;
                SkipWs();
                o.Members.Add(new System.Collections.Generic.KeyValuePair<string, JsonValue>(name, ParseValue()));
                SkipWs();
                if (pos >= s.Length) throw Error("unterminated object");
                char c = s[pos++];
                if (c == '}') break;
                if (c != ',') { pos--; throw Error("expected ',' or '}' in an object"); }
            }
            depth--;
            return o;
        }
    }
}
