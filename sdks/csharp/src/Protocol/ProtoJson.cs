using System;
using System.Collections.Generic;
using System.Globalization;
using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    /// <summary>A JSON document that is not a valid proto3-JSON form of the expected message.</summary>
    public sealed class ProtoJsonException : JsonException
    {
        public ProtoJsonException(string message) : base(message) { }
    }

    /// <summary>
    /// Reading and writing proto3-JSON (the protojson canonical mapping) field values. Readers accept what
    /// protojson parsers accept: integers as numbers or strings, 64-bit integers as strings, doubles also
    /// as "NaN"/"Infinity"/"-Infinity", bytes as standard or URL-safe base64 with or without padding, and
    /// null for "not set".
    /// </summary>
    public static class ProtoJson
    {
        /// <summary>The compact JSON text that write writes (one line: JSON strings escape newlines).</summary>
        public static string Text(Action<JsonWriter> write)
        {
            var w = new JsonWriter();
            write(w);
            return w.ToString();
        }

        /// <summary>Checks that v is an object and returns its members.</summary>
        public static IList<KeyValuePair<string, JsonValue>> Members(JsonValue v, string type)
        {
            if (v.Kind != JsonKind.Object)
                throw new ProtoJsonException(type + " must be a JSON object, got " + JsonValue.KindName(v.Kind));
            return v.Members;
        }

        /// <summary>Records that field number was seen; a field given twice (by either name) is an error.</summary>
        public static void Mark(ref ulong seen, int number, string type, string name)
        {
            ulong bit = 1UL << number;
            if ((seen & bit) != 0) throw new ProtoJsonException(type + "." + name + " is given more than once");
            seen |= bit;
        }

        /// <summary>Records the field set in a oneof; a second field of the same oneof is an error.</summary>
        public static void Oneof(ref int setCase, int number, string type, string oneof)
        {
            if (setCase != 0)
                throw new ProtoJsonException(type + " sets more than one field of its oneof " + oneof + " (or one field twice)");
            setCase = number;
        }

        static ProtoJsonException Bad(string field, string want, JsonValue v)
        {
            string got = v.Kind == JsonKind.String || v.Kind == JsonKind.Number ? JsonValue.KindName(v.Kind) + " " + Quote(v.Text) : JsonValue.KindName(v.Kind);
            return new ProtoJsonException(field + " must be " + want + ", got " + got);
        }

        static string Quote(string s)
        {
            if (s.Length > 40) s = s.Substring(0, 40) + "...";
            var sb = new System.Text.StringBuilder();
            JsonWriter.WriteString(sb, s);
            return sb.ToString();
        }

        public static string ReadString(JsonValue v, string field)
        {
            if (v.Kind != JsonKind.String) throw Bad(field, "a string", v);
            return v.Text;
        }

        public static bool ReadBool(JsonValue v, string field)
        {
            if (v.Kind == JsonKind.True) return true;
            if (v.Kind == JsonKind.False) return false;
            throw Bad(field, "true or false", v);
        }

        public static long ReadInt64(JsonValue v, string field)
        {
            long n;
            if ((v.Kind == JsonKind.Number || v.Kind == JsonKind.String) && IntegerText(v.Text, out n)) return n;
            throw Bad(field, "a 64-bit integer", v);
        }

        public static int ReadInt32(JsonValue v, string field)
        {
            long n;
            if ((v.Kind == JsonKind.Number || v.Kind == JsonKind.String) && IntegerText(v.Text, out n) && n >= int.MinValue && n <= int.MaxValue)
                return (int)n;
            throw Bad(field, "a 32-bit integer", v);
        }

        static bool IntegerText(string s, out long n)
        {
            n = 0;
            // A string must hold a JSON number too (no spaces, no '+', no hex).
            return JsonReader.IsNumberText(s) && JsonValue.TryParseInteger(s, out n);
        }

        public static double ReadDouble(JsonValue v, string field)
        {
            if (v.Kind == JsonKind.Number) return v.AsDouble();
            if (v.Kind == JsonKind.String)
            {
                switch (v.Text)
                {
                    case "NaN": return double.NaN;
                    case "Infinity": return double.PositiveInfinity;
                    case "-Infinity": return double.NegativeInfinity;
                }
                if (JsonReader.IsNumberText(v.Text)) return double.Parse(v.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            throw Bad(field, "a number", v);
        }

        public static byte[] ReadBytes(JsonValue v, string field)
        {
            if (v.Kind != JsonKind.String) throw Bad(field, "a base64 string", v);
            byte[] b;
            if (!TryDecodeBase64(v.Text, out b)) throw Bad(field, "a base64 string", v);
            return b;
        }

        /// <summary>Decodes standard or URL-safe base64, padded or not.</summary>
        public static bool TryDecodeBase64(string s, out byte[] bytes)
        {
            bytes = null;
            int len = s.Length;
            while (len > 0 && s[len - 1] == '=') len--;
            if (s.Length - len > 2 || len % 4 == 1) return false;
            var chars = new char[(len + 3) / 4 * 4];
            for (int i = 0; i < len; i++)
            {
                char c = s[i];
                if (c == '-') c = '+';
                else if (c == '_') c = '/';
                else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/')) return false;
                chars[i] = c;
            }
            for (int i = len; i < chars.Length; i++) chars[i] = '=';
            try { bytes = Convert.FromBase64CharArray(chars, 0, chars.Length); }
            catch (FormatException) { return false; }
            return true;
        }

        public static ProtoDuration ReadDuration(JsonValue v, string field)
        {
            ProtoDuration d;
            if (v.Kind == JsonKind.String && ProtoDuration.TryParse(v.Text, out d)) return d;
            throw Bad(field, "a duration such as \"1.5s\"", v);
        }

        public static List<T> ReadList<T>(JsonValue v, string field, Func<JsonValue, string, T> read)
        {
            if (v.Kind != JsonKind.Array) throw Bad(field, "an array", v);
            var items = v.Items;
            var list = new List<T>(items.Count);
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i].Kind == JsonKind.Null) throw new ProtoJsonException(field + "[" + i + "] is null");
                list.Add(read(items[i], field + "[" + i + "]"));
            }
            return list;
        }

        public static List<string> ReadStrings(JsonValue v, string field) { return ReadList(v, field, ReadString); }

        public static Dictionary<string, string> ReadStringMap(JsonValue v, string field)
        {
            if (v.Kind != JsonKind.Object) throw Bad(field, "an object", v);
            var map = new Dictionary<string, string>();
            foreach (var m in v.Members)
            {
                if (map.ContainsKey(m.Key)) throw new ProtoJsonException(field + " has the key " + Quote(m.Key) + " twice");
                map[m.Key] = ReadString(m.Value, field + "[" + Quote(m.Key) + "]");
            }
            return map;
        }

        // Writers: each writes "name":value; callers skip default values of implicit-presence fields.

        public static void WriteString(JsonWriter w, string name, string value)
        {
            if (!string.IsNullOrEmpty(value)) w.Name(name).String(value);
        }

        public static void WriteBool(JsonWriter w, string name, bool value)
        {
            if (value) w.Name(name).Bool(true);
        }

        public static void WriteInt32(JsonWriter w, string name, int value)
        {
            if (value != 0) w.Name(name).Number(value);
        }

        /// <summary>64-bit integers are strings in proto3 JSON.</summary>
        public static void WriteInt64(JsonWriter w, string name, long value)
        {
            if (value != 0) w.Name(name).String(value.ToString(CultureInfo.InvariantCulture));
        }

        public static void WriteDouble(JsonWriter w, string name, double value)
        {
            if (value == 0 && !double.IsNaN(value) && !(1 / value < 0)) return;
            w.Name(name);
            if (double.IsNaN(value)) w.String("NaN");
            else if (double.IsPositiveInfinity(value)) w.String("Infinity");
            else if (double.IsNegativeInfinity(value)) w.String("-Infinity");
            else w.Number(value);
        }

        public static void WriteBytesValue(JsonWriter w, byte[] value)
        {
            w.String(Convert.ToBase64String(value ?? new byte[0]));
        }

        public static void WriteStrings(JsonWriter w, string name, IList<string> values)
        {
            if (values == null || values.Count == 0) return;
            w.Name(name).BeginArray();
            foreach (var s in values) w.String(s ?? "");
            w.EndArray();
        }

        public static void WriteStringMap(JsonWriter w, string name, IDictionary<string, string> map)
        {
            if (map == null || map.Count == 0) return;
            w.Name(name).BeginObject();
            foreach (var kv in map) w.Name(kv.Key).String(kv.Value ?? "");
            w.EndObject();
        }
    }
}
