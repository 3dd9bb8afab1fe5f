using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Chorus.Worker.Json
{
    /// <summary>
    /// Writes compact JSON (no whitespace) into a string, inserting commas itself. Strings are escaped
    /// as RFC 8259 requires: quote, backslash and control characters; everything else is written as is
    /// (the text is encoded as UTF-8 by whoever sends it).
    /// </summary>
    public sealed class JsonWriter
    {
        readonly StringBuilder sb;
        // One entry per open array/object: whether the next element is its first.
        readonly Stack<bool> first = new Stack<bool>();
        bool afterName;

        public JsonWriter() : this(new StringBuilder(256)) { }

        public JsonWriter(StringBuilder sb) { this.sb = sb; }

        public override string ToString() { return sb.ToString(); }

        void BeforeValue()
        {
            if (afterName) { afterName = false; return; }
            if (first.Count > 0)
            {
                if (first.Peek()) { first.Pop(); first.Push(false); }
                else sb.Append(',');
            }
        }

        public JsonWriter BeginObject() { BeforeValue(); sb.Append('{'); first.Push(true); return this; }

        public JsonWriter EndObject() { first.Pop(); sb.Append('}'); return this; }

        public JsonWriter BeginArray() { BeforeValue(); sb.Append('['); first.Push(true); return this; }

        public JsonWriter EndArray() { first.Pop(); sb.Append(']'); return this; }

        /// <summary>Writes a member name; the next call writes its value.</summary>
        public JsonWriter Name(string name)
        {
            BeforeValue();
            WriteString(sb, name);
            sb.Append(':');
            afterName = true;
            return this;
        }

        public JsonWriter String(string s) { BeforeValue(); WriteString(sb, s); return this; }

        public JsonWriter Number(long n) { BeforeValue(); sb.Append(n.ToString(CultureInfo.InvariantCulture)); return this; }

        public JsonWriter Number(double d) { BeforeValue(); sb.Append(FormatDouble(d)); return this; }

        public JsonWriter Bool(bool b) { BeforeValue(); sb.Append(b ? "true" : "false"); return this; }

        public JsonWriter Null() { BeforeValue(); sb.Append("null"); return this; }

        /// <summary>Writes a whole <see cref="JsonValue"/>.</summary>
        public JsonWriter Value(JsonValue v)
        {
            switch (v.Kind)
            {
                case JsonKind.Null: return Null();
                case JsonKind.True: return Bool(true);
                case JsonKind.False: return Bool(false);
                case JsonKind.Number: BeforeValue(); sb.Append(v.Text); return this;
                case JsonKind.String: return String(v.Text);
                case JsonKind.Array:
                    BeginArray();
                    foreach (var item in v.Items) Value(item);
                    return EndArray();
                default:
                    BeginObject();
                    foreach (var m in v.Members) { Name(m.Key); Value(m.Value); }
                    return EndObject();
            }
        }

        /// <summary>The shortest text that reads back as the same double; NaN and infinities throw.</summary>
        public static string FormatDouble(double d)
        {
            if (double.IsNaN(d) || double.IsInfinity(d))
                throw new JsonException("JSON has no representation for " + d.ToString(CultureInfo.InvariantCulture));
            string r = d.ToString("R", CultureInfo.InvariantCulture);
            // "R" gives forms like "1E+20" or "-1.5E-07", all valid JSON numbers.
            return r;
        }

        static readonly string[] Escapes = BuildEscapes();

        static string[] BuildEscapes()
        {
            var e = new string[0x20];
            for (int i = 0; i < 0x20; i++) e[i] = "\\u" + i.ToString("x4");
            e['\b'] = "\\b"; e['\f'] = "\\f"; e['\n'] = "\\n"; e['\r'] = "\\r"; e['\t'] = "\\t";
            return e;
        }

        /// <summary>Appends s as a quoted, escaped JSON string.</summary>
        public static void WriteString(StringBuilder sb, string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            sb.Append('"');
            int run = 0;
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                string esc = null;
                if (c < 0x20) esc = Escapes[c];
                else if (c == '"') esc = "\\\"";
                else if (c == '\\') esc = "\\\\";
                else continue;
                sb.Append(s, run, i - run).Append(esc);
                run = i + 1;
            }
            sb.Append(s, run, s.Length - run);
            sb.Append('"');
        }
    }
}
