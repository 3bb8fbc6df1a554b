using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace VallE.Weights.Pickle;

/// <summary>
/// A pickle virtual machine (protocols 0-5) that only ever builds data: numbers, strings, bytes, tuples, lists,
/// dicts, and whatever its <see cref="PickleHost"/> makes of globals and persistent ids. There is no import, no
/// attribute lookup and no call into anything named by the file. Globals pass <see cref="GlobalPolicy"/> first.
/// Every malformed input (unknown opcode, opcode newer than the declared protocol, stack underflow, memo miss,
/// truncation, a length past the end, a cycle or too deep a structure) is an <see cref="InvalidInputException"/>
/// that names the opcode and its byte offset.
/// </summary>
public sealed class Unpickler
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly PickleHost _host;
    private readonly PickleLimits _limits;
    private readonly string _source;
    private readonly List<object?> _stack = new(64);
    private readonly List<int> _marks = new(16);
    private readonly Dictionary<long, object?> _memo = new();
    private int _pos;
    private int _opStart;
    private byte _op;
    // Protocol 0 and 1 pickles carry no PROTO opcode, so binary (protocol 1) opcodes are valid until PROTO says otherwise.
    private int _protocol = 1;

    private Unpickler(byte[] data, PickleHost host, PickleLimits limits)
    {
        _data = data;
        _host = host;
        _limits = limits;
        _source = host.Source;
    }

    /// <summary>Runs <paramref name="pickle"/> to its STOP opcode and returns the value it produced (checked by <see cref="PyGraph"/>).</summary>
    public static object? Load(byte[] pickle, PickleHost host, PickleLimits? limits = null)
    {
        var vm = new Unpickler(pickle, host, limits ?? PickleLimits.Default);
        object? root = vm.Run();
        PyGraph.Check(root, vm._limits, host.Source);
        return root;
    }

    private InvalidInputException Error(string reason) =>
        new($"{_source}: {PickleOpcodes.Describe(_op)} at byte {_opStart}: {reason}");

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length)
                throw new InvalidInputException($"{_source}: truncated pickle (ended at byte {_data.Length} without STOP)");
            _opStart = _pos;
            _op = _data[_pos++];
            int introduced = PickleOpcodes.ProtocolOf(_op);
            if (introduced < 0) throw new InvalidInputException($"{_source}: unknown opcode 0x{_op:x2} at byte {_opStart}");
            if (introduced > _protocol && _op != (byte)PickleOpcode.Proto)
                throw Error($"opcode of protocol {introduced} in a protocol {_protocol} pickle");
            if (Step((PickleOpcode)_op)) return Pop();
        }
    }

    /// <summary>Executes one opcode; true at STOP.</summary>
    private bool Step(PickleOpcode op)
    {
        switch (op)
        {
            case PickleOpcode.Proto:
                int proto = ReadByte();
                if (proto > PickleOpcodes.HighestProtocol) throw Error($"unsupported pickle protocol {proto}");
                _protocol = proto;
                break;
            case PickleOpcode.Frame:
                long frame = ReadUInt64();
                if (frame > _data.Length - _pos) throw Error($"frame of {frame} bytes runs past the end");
                break;
            case PickleOpcode.Stop:
                if (_stack.Count == 0) throw Error("stack underflow (nothing to return)");
                return true;

            // Constants and numbers
            case PickleOpcode.None: Push(null); break;
            case PickleOpcode.NewTrue: Push(true); break;
            case PickleOpcode.NewFalse: Push(false); break;
            case PickleOpcode.BinInt: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
            case PickleOpcode.BinInt1: Push((long)ReadByte()); break;
            case PickleOpcode.BinInt2: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
            case PickleOpcode.Long1: Push(DecodeLong(Take(ReadByte()))); break;
            case PickleOpcode.Long4:
                int n4 = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                if (n4 < 0) throw Error($"negative byte count {n4}");
                Push(DecodeLong(Take(n4)));
                break;
            case PickleOpcode.Int: Push(ParseTextInt(ReadLine(), allowBool: true)); break;
            case PickleOpcode.Long: Push(ParseTextInt(ReadLine().TrimEnd('L'), allowBool: false)); break;
            case PickleOpcode.BinFloat: Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
            case PickleOpcode.Float: Push(ParseTextFloat(ReadLine())); break;

            // Strings and bytes (8-bit strings decode as UTF-8, as torch.load asks pickle to)
            case PickleOpcode.BinUnicode: Push(DecodeUtf8(Take(ReadLength(4)))); break;
            case PickleOpcode.ShortBinUnicode: Push(DecodeUtf8(Take(ReadByte()))); break;
            case PickleOpcode.BinUnicode8: Push(DecodeUtf8(Take(ReadLength(8)))); break;
            case PickleOpcode.Unicode: Push(DecodeRawUnicodeEscape(ReadLineBytes())); break;
            case PickleOpcode.BinString:
                int sl = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                if (sl < 0) throw Error($"negative string length {sl}");
                Push(DecodeUtf8(Take(sl)));
                break;
            case PickleOpcode.ShortBinString: Push(DecodeUtf8(Take(ReadByte()))); break;
            case PickleOpcode.String: Push(DecodeQuotedString(ReadLine())); break;
            case PickleOpcode.BinBytes: Push(Take(ReadLength(4)).ToArray()); break;
            case PickleOpcode.ShortBinBytes: Push(Take(ReadByte()).ToArray()); break;
            case PickleOpcode.BinBytes8:
            case PickleOpcode.ByteArray8: Push(Take(ReadLength(8)).ToArray()); break;
            case PickleOpcode.NextBuffer: throw Error("out-of-band buffers are not supported");
            case PickleOpcode.ReadOnlyBuffer: Peek(); break; // marks the top buffer read-only: nothing to do

            // Containers
            case PickleOpcode.EmptyTuple: Push(new PyTuple([])); break;
            case PickleOpcode.Tuple: Push(new PyTuple(PopMark())); break;
            case PickleOpcode.Tuple1: { var a = Pop(); Push(new PyTuple([a])); break; }
            case PickleOpcode.Tuple2: { var b = Pop(); var a = Pop(); Push(new PyTuple([a, b])); break; }
            case PickleOpcode.Tuple3: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PyTuple([a, b, c])); break; }
            case PickleOpcode.EmptyList: Push(new PyList()); break;
            case PickleOpcode.List: Push(new PyList(PopMark())); break;
            case PickleOpcode.EmptyDict: Push(new PyDict()); break;
            case PickleOpcode.Dict: { var items = PopMark(); var d = new PyDict(); SetItems(d, items); Push(d); break; }
            case PickleOpcode.EmptySet: Push(new PyList()); break;
            case PickleOpcode.FrozenSet: Push(new PyList(PopMark())); break;
            case PickleOpcode.Append: { var item = Pop(); AppendTo(Peek(), [item]); break; }
            case PickleOpcode.Appends:
            case PickleOpcode.AddItems: { var items = PopMark(); AppendTo(Peek(), items); break; }
            case PickleOpcode.SetItem: { var v = Pop(); var k = Pop(); SetItemsOn(Peek(), [k, v]); break; }
            case PickleOpcode.SetItems: { var items = PopMark(); SetItemsOn(Peek(), items); break; }

            // Stack and memo
            case PickleOpcode.Mark: _marks.Add(_stack.Count); break;
            case PickleOpcode.Pop:
                if (_marks.Count > 0 && _marks[^1] == _stack.Count) PopMark(); // CPython: POP right after MARK discards the mark
                else Pop();
                break;
            case PickleOpcode.PopMark: PopMark(); break;
            case PickleOpcode.Dup: Push(Peek()); break;
            case PickleOpcode.Get: MemoGet(ParseMemoIndex(ReadLine())); break;
            case PickleOpcode.BinGet: MemoGet(ReadByte()); break;
            case PickleOpcode.LongBinGet: MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;
            case PickleOpcode.Put: _memo[ParseMemoIndex(ReadLine())] = Peek(); break;
            case PickleOpcode.BinPut: _memo[ReadByte()] = Peek(); break;
            case PickleOpcode.LongBinPut: _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break;
            case PickleOpcode.Memoize: _memo[_memo.Count] = Peek(); break;

            // Globals and objects: only ever interpreted by the host, never resolved
            case PickleOpcode.Global: Push(LoadGlobal(ReadLine(), ReadLine())); break;
            case PickleOpcode.StackGlobal:
            {
                var name = Pop();
                var module = Pop();
                if (module is not string m || name is not string nm) throw Error("module and name must be strings");
                Push(LoadGlobal(m, nm));
                break;
            }
            case PickleOpcode.Reduce:
            {
                var args = AsTuple(Pop(), "arguments");
                Push(_host.Call(AsGlobal(Pop()), args));
                break;
            }
            case PickleOpcode.NewObj:
            {
                var args = AsTuple(Pop(), "arguments");
                Push(_host.NewObject(AsGlobal(Pop()), args, null));
                break;
            }
            case PickleOpcode.NewObjEx:
            {
                var kwargs = Pop() as PyDict ?? throw Error("keyword arguments must be a dict");
                var args = AsTuple(Pop(), "arguments");
                Push(_host.NewObject(AsGlobal(Pop()), args, kwargs));
                break;
            }
            case PickleOpcode.Inst:
            {
                var cls = LoadGlobal(ReadLine(), ReadLine());
                Push(_host.NewObject(AsGlobal(cls), new PyTuple(PopMark()), null));
                break;
            }
            case PickleOpcode.Obj:
            {
                var items = PopMark();
                if (items.Length == 0) throw Error("stack underflow (OBJ needs a class)");
                Push(_host.NewObject(AsGlobal(items[0]), new PyTuple(items[1..]), null));
                break;
            }
            case PickleOpcode.Build: { var state = Pop(); _host.Build(Peek(), state); break; }
            case PickleOpcode.BinPersId: Push(_host.PersistentLoad(Pop())); break;
            case PickleOpcode.PersId: Push(_host.PersistentLoad(ReadLine())); break;
            case PickleOpcode.Ext1:
            case PickleOpcode.Ext2:
            case PickleOpcode.Ext4:
                throw Error("extension registry codes are not supported");
            default:
                throw new InvalidInputException($"{_source}: unknown opcode 0x{_op:x2} at byte {_opStart}");
        }
        return false;
    }

    // ---- stack -------------------------------------------------------------------------------------------

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Error("stack underflow");
        object? v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Error("stack underflow");
        return _stack[^1];
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw Error("no MARK to pop to (stack underflow)");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private void MemoGet(long index)
    {
        if (!_memo.TryGetValue(index, out var v)) throw Error($"memo miss (no value stored under {index})");
        Push(v);
    }

    private void AppendTo(object? target, object?[] items)
    {
        switch (target)
        {
            case PyList list: list.AddRange(items); break;
            case PyInert inert: (inert.ListItems ??= new PyList()).AddRange(items); break;
            default: throw Error($"cannot append to {Describe(target)}");
        }
    }

    private void SetItemsOn(object? target, object?[] keyValues)
    {
        switch (target)
        {
            case PyDict d: SetItems(d, keyValues); break;
            case PyInert inert: SetItems(inert.DictItems ??= new PyDict(), keyValues); break;
            default: throw Error($"cannot set items on {Describe(target)}");
        }
    }

    private void SetItems(PyDict d, object?[] keyValues)
    {
        if (keyValues.Length % 2 != 0) throw Error("odd number of items for a dict");
        for (int i = 0; i < keyValues.Length; i += 2)
        {
            if (keyValues[i] is PyList or PyDict) throw Error($"unhashable dict key {Describe(keyValues[i])}");
            d.Set(keyValues[i], keyValues[i + 1]);
        }
    }

    private PyTuple AsTuple(object? value, string what) =>
        value as PyTuple ?? throw Error($"{what} must be a tuple, got {Describe(value)}");

    /// <summary>REDUCE/NEWOBJ targets must be a global the file named (never an object it built).</summary>
    private PyInert AsGlobal(object? value) =>
        value is PyInert { Args: null, State: null, ListItems: null, DictItems: null } g
            ? g
            : throw Error($"can only call a global, not {Describe(value)}");

    private object? LoadGlobal(string module, string name)
    {
        if (GlobalPolicy.IsRefused(module, name)) throw new InvalidInputException(GlobalPolicy.RefusalMessage(_source, module, name));
        return _host.Global(GlobalPolicy.NormalizeModule(module), name);
    }

    private static string Describe(object? v) => v switch
    {
        null => "None",
        PyInert i => i.QualifiedName,
        _ => v.GetType().Name,
    };

    // ---- reading -----------------------------------------------------------------------------------------

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > _data.Length - _pos)
            throw new InvalidInputException($"{_source}: truncated pickle: {PickleOpcodes.Describe(_op)} at byte {_opStart} needs {count} bytes, {_data.Length - _pos} remain");
        var s = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return s;
    }

    private byte ReadByte() => Take(1)[0];

    private ulong ReadUInt64Raw() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    private long ReadUInt64()
    {
        ulong v = ReadUInt64Raw();
        return v > long.MaxValue ? long.MaxValue : (long)v;
    }

    /// <summary>A length prefix of 4 or 8 bytes; larger than what remains means truncation, checked before any allocation.</summary>
    private long ReadLength(int width)
    {
        long n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : ReadUInt64();
        if (n > _data.Length - _pos)
            throw new InvalidInputException($"{_source}: truncated pickle: {PickleOpcodes.Describe(_op)} at byte {_opStart} declares {n} bytes, {_data.Length - _pos} remain");
        return n;
    }

    private ReadOnlySpan<byte> ReadLineBytes()
    {
        int nl = Array.IndexOf(_data, (byte)'\n', _pos);
        if (nl < 0) throw new InvalidInputException($"{_source}: truncated pickle: {PickleOpcodes.Describe(_op)} at byte {_opStart} has no end of line");
        var line = _data.AsSpan(_pos, nl - _pos);
        _pos = nl + 1;
        return line;
    }

    private string ReadLine() => DecodeUtf8(ReadLineBytes());

    private string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { throw Error("string is not valid UTF-8"); }
    }

    private static object DecodeLong(ReadOnlySpan<byte> le)
    {
        if (le.Length == 0) return 0L;
        if (le.Length <= 8)
        {
            long v = 0;
            for (int i = le.Length - 1; i >= 0; i--) v = (v << 8) | le[i];
            int shift = 64 - 8 * le.Length;
            return shift == 0 ? v : (v << shift) >> shift; // sign-extend
        }
        var big = new BigInteger(le, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private object ParseTextInt(string text, bool allowBool)
    {
        if (allowBool && text == "00") return false;
        if (allowBool && text == "01") return true;
        string digits = text.TrimStart('-', '+');
        if (digits.Length == 0 || digits.Length > _limits.MaxDecimalDigits || !digits.All(char.IsAsciiDigit))
            throw Error($"bad integer literal '{Shorten(text)}'");
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) return v;
        return BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private double ParseTextFloat(string text)
    {
        switch (text)
        {
            case "inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
            case "nan": return double.NaN;
        }
        if (text.Length <= 64 && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        throw Error($"bad float literal '{Shorten(text)}'");
    }

    private long ParseMemoIndex(string text) =>
        text.Length is > 0 and <= 10 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Error($"bad memo index '{Shorten(text)}'");

    /// <summary>Protocol 0 STRING: a Python repr, '...' or "...", with backslash escapes.</summary>
    private string DecodeQuotedString(string repr)
    {
        if (repr.Length < 2 || repr[0] != repr[^1] || (repr[0] != '\'' && repr[0] != '"'))
            throw Error("STRING argument is not a quoted literal");
        var body = repr.AsSpan(1, repr.Length - 2);
        var bytes = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\')
            {
                if (c > 0x7F) bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                else bytes.Add((byte)c);
                continue;
            }
            if (++i >= body.Length) throw Error("STRING ends inside an escape");
            char e = body[i];
            switch (e)
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case '0': bytes.Add(0); break;
                case '\\': case '\'': case '"': bytes.Add((byte)e); break;
                case 'x':
                    if (body.Length - i - 1 < 2 || !byte.TryParse(body.Slice(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
                        throw Error("STRING has a bad \\x escape");
                    bytes.Add(b);
                    i += 2;
                    break;
                default: bytes.Add((byte)'\\'); bytes.Add((byte)e); break;
            }
        }
        return DecodeUtf8(bytes.ToArray());
    }

    /// <summary>Protocol 0 UNICODE: latin-1 bytes with \uXXXX and \UXXXXXXXX escapes (raw-unicode-escape).</summary>
    private string DecodeRawUnicodeEscape(ReadOnlySpan<byte> raw)
    {
        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 1 < raw.Length && (raw[i + 1] == 'u' || raw[i + 1] == 'U'))
            {
                int digits = raw[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits > raw.Length) throw Error("UNICODE has a short escape");
                var hex = Encoding.ASCII.GetString(raw.Slice(i + 2, digits));
                if (!int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp) || cp < 0 || cp > 0x10FFFF)
                    throw Error("UNICODE has a bad escape");
                if (cp is >= 0xD800 and <= 0xDFFF) sb.Append((char)cp);
                else sb.Append(char.ConvertFromUtf32(cp));
                i += 1 + digits;
            }
            else sb.Append((char)raw[i]);
        }
        return sb.ToString();
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
