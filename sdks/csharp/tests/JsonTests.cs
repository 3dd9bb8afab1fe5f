using System;
using System.Text;
using Chorus.Worker.Json;

namespace Chorus.Worker.Tests
{
    public static class JsonTests
    {
        static string RoundTrip(string json) { return JsonReader.Parse(json).ToString(); }

        [Test]
        public static void ParsesEveryKindAndWritesCompactly()
        {
            var cases = new[]
            {
                new[] { "null", "null" }, new[] { "true", "true" }, new[] { "false", "false" },
                new[] { " 0 ", "0" }, new[] { "-12", "-12" }, new[] { "3.25e-7", "3.25e-7" }, new[] { "1E+20", "1E+20" },
                new[] { "\"\"", "\"\"" }, new[] { "[]", "[]" }, new[] { "{}", "{}" },
                new[] { "[1, [2, [3, {}]], \"x\"]", "[1,[2,[3,{}]],\"x\"]" },
                new[] { "{ \"a\" : 1 ,\n\t\"b\":[true,false,null], \"c\":{\"d\":\"e\"}}", "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}" },
            };
            foreach (var c in cases) Assert.Equal(c[1], RoundTrip(c[0]), "round trip of " + c[0]);
        }

        [Test]
        public static void DecodesEscapesAndUnicode()
        {
            var v = JsonReader.Parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0000\\u00e9\\u20AC\\ud83d\\ude00é😀\"");
            Assert.Equal("a\"b\\c/d\b\f\n\r\t\0é€😀é😀", v.Text, "decoded string");
        }

        [Test]
        public static void EscapesWhatJsonRequires()
        {
            var sb = new StringBuilder();
            JsonWriter.WriteString(sb, "q\"b\\n\n\u0001\u001f\u007f é😀/");
            Assert.Equal("\"q\\\"b\\\\n\\n\\u0001\\u001f\u007f é😀/\"", sb.ToString(), "escaped string");
        }

        [Test]
        public static void EveryCharacterRoundTrips()
        {
            var sb = new StringBuilder();
            for (int c = 0; c < 0x3000; c++) if (c < 0xd800 || c > 0xdfff) sb.Append((char)c);
            sb.Append("\ud83d\ude00\U0010FFFF");
            string s = sb.ToString();
            var w = new JsonWriter();
            w.String(s);
            Assert.Equal(s, JsonReader.Parse(w.ToString()).Text, "string with every BMP character up to U+3000 and astral ones");
            // And through UTF-8, as it travels on the pipe.
            var utf8 = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(w.ToString()));
            Assert.Equal(s, JsonReader.Parse(utf8).Text, "through UTF-8");
        }

        [Test]
        public static void RandomDocumentsRoundTrip()
        {
            var rng = new Random(7);
            for (int i = 0; i < 300; i++)
            {
                var v = RandomValue(rng, 0);
                string text = v.ToString();
                var back = JsonReader.Parse(text);
                Assert.True(v.DeepEquals(back), "random document " + i + " round trips: " + text);
                Assert.Equal(text, back.ToString(), "random document " + i + " is rewritten identically");
            }
        }

        static JsonValue RandomValue(Random rng, int depth)
        {
            switch (depth > 4 ? rng.Next(5) : rng.Next(7))
            {
                case 0: return JsonValue.Null;
                case 1: return JsonValue.Bool(rng.Next(2) == 0);
                case 2: return JsonValue.Number((long)(rng.NextDouble() * long.MaxValue) * (rng.Next(2) == 0 ? -1 : 1));
                case 3: return JsonValue.Number((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-30, 30)));
                case 4:
                    var sb = new StringBuilder();
                    int n = rng.Next(12);
                    for (int k = 0; k < n; k++) sb.Append((char)(rng.Next(3) == 0 ? rng.Next(0x20) : rng.Next(0x20, 0xd7ff)));
                    return JsonValue.String(sb.ToString());
                case 5:
                    var a = JsonValue.NewArray();
                    for (int k = rng.Next(4); k > 0; k--) a.Add(RandomValue(rng, depth + 1));
                    return a;
                default:
                    var o = JsonValue.NewObject();
                    for (int k = rng.Next(4); k > 0; k--) o.Add("k" + rng.Next(100) + "\n\"", RandomValue(rng, depth + 1));
                    return o;
            }
        }

        [Test]
        public static void KeepsLargeIntegersExact()
        {
            var v = JsonReader.Parse("[9223372036854775807,-9223372036854775808,12345678901234567890,1e3,1.0,1.5]");
            long n;
            Assert.True(v.Items[0].TryGetInt64(out n) && n == long.MaxValue, "int64 max");
            Assert.True(v.Items[1].TryGetInt64(out n) && n == long.MinValue, "int64 min");
            Assert.True(!v.Items[2].TryGetInt64(out n), "out of int64 range");
            Assert.Equal("12345678901234567890", v.Items[2].Text, "big number text kept");
            Assert.True(v.Items[3].TryGetInt64(out n) && n == 1000, "1e3 is an integer");
            Assert.True(v.Items[4].TryGetInt64(out n) && n == 1, "1.0 is an integer");
            Assert.True(!v.Items[5].TryGetInt64(out n), "1.5 is not an integer");
            Assert.Equal(1.5, v.Items[5].AsDouble(), "1.5 as double");
        }

        [Test]
        public static void DoublesRoundTrip()
        {
            foreach (var d in new[] { 0.1, -2.5e-300, 1.7976931348623157e308, 4.9e-324, 123456789.125, 1e21, 0.3333333333333333 })
            {
                var w = new JsonWriter();
                w.Number(d);
                Assert.Equal(d, JsonReader.Parse(w.ToString()).AsDouble(), "double " + d.ToString("R"));
            }
            Assert.Throws<JsonException>(() => new JsonWriter().Number(double.NaN), "NaN has no JSON form");
            Assert.Throws<JsonException>(() => new JsonWriter().Number(double.PositiveInfinity), "Infinity has no JSON form");
        }

        [Test]
        public static void RejectsMalformedJson()
        {
            var bad = new[]
            {
                "", " ", "nul", "tru", "True", "01", "-", "1.", ".5", "1e", "+1", "0x10", "1 2", "[1,]", "[,1]", "{\"a\":1,}",
                "{a:1}", "{'a':1}", "{\"a\" 1}", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"tab\there\"",
                "\"new\nline\"", "[", "{", "{\"a\":", "]", "NaN", "Infinity", "[1]]", "{}x",
            };
            foreach (var s in bad)
                Assert.Throws<JsonException>(() => JsonReader.Parse(s), "malformed " + s.Replace("\n", "\\n").Replace("\t", "\\t"));
            var e = Assert.Throws<JsonException>(() => JsonReader.Parse("[1, 2, x]"), "error position");
            Assert.Contains("offset 7", e.Message, "error names the offset");
        }

        [Test]
        public static void BoundsNesting()
        {
            string ok = new string('[', JsonReader.MaxDepth) + new string(']', JsonReader.MaxDepth);
            Assert.Equal(JsonKind.Array, JsonReader.Parse(ok).Kind, "nesting at the limit");
            string deep = new string('[', JsonReader.MaxDepth + 1) + new string(']', JsonReader.MaxDepth + 1);
            Assert.Contains("nesting", Assert.Throws<JsonException>(() => JsonReader.Parse(deep), "too deep").Message, "depth error");
        }

        [Test]
        public static void ObjectsKeepOrderAndLastDuplicateWins()
        {
            var v = JsonReader.Parse("{\"b\":1,\"a\":2,\"b\":3}");
            Assert.Equal(3, v.Members.Count, "members kept");
            Assert.Equal("3", v.Get("b").Text, "Get returns the last duplicate");
            Assert.Equal(null, v.Get("zz"), "missing member");
            Assert.Equal("{\"b\":1,\"a\":2,\"b\":3}", v.ToString(), "order kept");
        }

        [Test]
        public static void WriterBuildsNestedDocuments()
        {
            var w = new JsonWriter();
            w.BeginObject().Name("a").BeginArray().Number(1).String("x").Null().BeginObject().EndObject().EndArray()
                .Name("b").Bool(false).Name("c").BeginObject().Name("d").Number(-0.5).EndObject().EndObject();
            Assert.Equal("{\"a\":[1,\"x\",null,{}],\"b\":false,\"c\":{\"d\":-0.5}}", w.ToString(), "writer output");
        }

        [Test]
        public static void NumberTextIsValidated()
        {
            Assert.True(JsonReader.IsNumberText("-0.5e+10"), "valid number text");
            Assert.True(!JsonReader.IsNumberText("00"), "leading zero");
            Assert.True(!JsonReader.IsNumberText(" 1"), "leading space");
            Assert.Throws<JsonException>(() => JsonValue.Number("1,5"), "JsonValue.Number checks its text");
        }
    }
}
