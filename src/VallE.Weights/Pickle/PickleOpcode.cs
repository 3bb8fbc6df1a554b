namespace VallE.Weights.Pickle;

/// <summary>Every opcode of pickle protocols 0-5 (CPython Lib/pickle.py / pickletools names).</summary>
internal enum PickleOpcode : byte
{
    // protocol 0 (text)
    Mark = (byte)'(', Stop = (byte)'.', Pop = (byte)'0', PopMark = (byte)'1', Dup = (byte)'2',
    Float = (byte)'F', Int = (byte)'I', Long = (byte)'L', None = (byte)'N', PersId = (byte)'P',
    Reduce = (byte)'R', String = (byte)'S', Unicode = (byte)'V', Append = (byte)'a', Build = (byte)'b',
    Global = (byte)'c', Dict = (byte)'d', Get = (byte)'g', Inst = (byte)'i', List = (byte)'l',
    Put = (byte)'p', SetItem = (byte)'s', Tuple = (byte)'t',
    // protocol 1 (binary)
    BinInt = (byte)'J', BinInt1 = (byte)'K', BinInt2 = (byte)'M', BinPersId = (byte)'Q',
    BinString = (byte)'T', ShortBinString = (byte)'U', BinUnicode = (byte)'X', EmptyDict = (byte)'}',
    Appends = (byte)'e', BinGet = (byte)'h', LongBinGet = (byte)'j', EmptyList = (byte)']',
    Obj = (byte)'o', BinPut = (byte)'q', LongBinPut = (byte)'r', SetItems = (byte)'u',
    EmptyTuple = (byte)')', BinFloat = (byte)'G',
    // protocol 2
    Proto = 0x80, NewObj = 0x81, Ext1 = 0x82, Ext2 = 0x83, Ext4 = 0x84, Tuple1 = 0x85, Tuple2 = 0x86,
    Tuple3 = 0x87, NewTrue = 0x88, NewFalse = 0x89, Long1 = 0x8a, Long4 = 0x8b,
    // protocol 3
    BinBytes = (byte)'B', ShortBinBytes = (byte)'C',
    // protocol 4
    ShortBinUnicode = 0x8c, BinUnicode8 = 0x8d, BinBytes8 = 0x8e, EmptySet = 0x8f, AddItems = 0x90,
    FrozenSet = 0x91, NewObjEx = 0x92, StackGlobal = 0x93, Memoize = 0x94, Frame = 0x95,
    // protocol 5
    ByteArray8 = 0x96, NextBuffer = 0x97, ReadOnlyBuffer = 0x98,
}

internal static class PickleOpcodes
{
    public const int HighestProtocol = 5;

    /// <summary>The protocol that introduced each opcode byte, or -1 for bytes that are no opcode.</summary>
    private static readonly sbyte[] IntroducedIn = Build();

    private static sbyte[] Build()
    {
        var t = new sbyte[256];
        Array.Fill(t, (sbyte)-1);
        foreach (char c in "(.012FILNPRSVabcdgilpst") t[c] = 0;
        foreach (char c in "JKMQTUX}ehj]oqru)G") t[c] = 1;
        for (int b = 0x80; b <= 0x8b; b++) t[b] = 2;
        t['B'] = 3; t['C'] = 3;
        for (int b = 0x8c; b <= 0x95; b++) t[b] = 4;
        for (int b = 0x96; b <= 0x98; b++) t[b] = 5;
        return t;
    }

    public static int ProtocolOf(byte opcode) => IntroducedIn[opcode];

    /// <summary>Opcode names as CPython's pickletools prints them, so errors can be matched against a disassembly.</summary>
    private static readonly Dictionary<PickleOpcode, string> Names = new()
    {
        [PickleOpcode.Mark] = "MARK", [PickleOpcode.Stop] = "STOP", [PickleOpcode.Pop] = "POP", [PickleOpcode.PopMark] = "POP_MARK",
        [PickleOpcode.Dup] = "DUP", [PickleOpcode.Float] = "FLOAT", [PickleOpcode.Int] = "INT", [PickleOpcode.Long] = "LONG",
        [PickleOpcode.None] = "NONE", [PickleOpcode.PersId] = "PERSID", [PickleOpcode.Reduce] = "REDUCE", [PickleOpcode.String] = "STRING",
        [PickleOpcode.Unicode] = "UNICODE", [PickleOpcode.Append] = "APPEND", [PickleOpcode.Build] = "BUILD", [PickleOpcode.Global] = "GLOBAL",
        [PickleOpcode.Dict] = "DICT", [PickleOpcode.Get] = "GET", [PickleOpcode.Inst] = "INST", [PickleOpcode.List] = "LIST",
        [PickleOpcode.Put] = "PUT", [PickleOpcode.SetItem] = "SETITEM", [PickleOpcode.Tuple] = "TUPLE",
        [PickleOpcode.BinInt] = "BININT", [PickleOpcode.BinInt1] = "BININT1", [PickleOpcode.BinInt2] = "BININT2",
        [PickleOpcode.BinPersId] = "BINPERSID", [PickleOpcode.BinString] = "BINSTRING", [PickleOpcode.ShortBinString] = "SHORT_BINSTRING",
        [PickleOpcode.BinUnicode] = "BINUNICODE", [PickleOpcode.EmptyDict] = "EMPTY_DICT", [PickleOpcode.Appends] = "APPENDS",
        [PickleOpcode.BinGet] = "BINGET", [PickleOpcode.LongBinGet] = "LONG_BINGET", [PickleOpcode.EmptyList] = "EMPTY_LIST",
        [PickleOpcode.Obj] = "OBJ", [PickleOpcode.BinPut] = "BINPUT", [PickleOpcode.LongBinPut] = "LONG_BINPUT",
        [PickleOpcode.SetItems] = "SETITEMS", [PickleOpcode.EmptyTuple] = "EMPTY_TUPLE", [PickleOpcode.BinFloat] = "BINFLOAT",
        [PickleOpcode.Proto] = "PROTO", [PickleOpcode.NewObj] = "NEWOBJ", [PickleOpcode.Ext1] = "EXT1", [PickleOpcode.Ext2] = "EXT2",
        [PickleOpcode.Ext4] = "EXT4", [PickleOpcode.Tuple1] = "TUPLE1", [PickleOpcode.Tuple2] = "TUPLE2", [PickleOpcode.Tuple3] = "TUPLE3",
        [PickleOpcode.NewTrue] = "NEWTRUE", [PickleOpcode.NewFalse] = "NEWFALSE", [PickleOpcode.Long1] = "LONG1", [PickleOpcode.Long4] = "LONG4",
        [PickleOpcode.BinBytes] = "BINBYTES", [PickleOpcode.ShortBinBytes] = "SHORT_BINBYTES",
        [PickleOpcode.ShortBinUnicode] = "SHORT_BINUNICODE", [PickleOpcode.BinUnicode8] = "BINUNICODE8", [PickleOpcode.BinBytes8] = "BINBYTES8",
        [PickleOpcode.EmptySet] = "EMPTY_SET", [PickleOpcode.AddItems] = "ADDITEMS", [PickleOpcode.FrozenSet] = "FROZENSET",
        [PickleOpcode.NewObjEx] = "NEWOBJ_EX", [PickleOpcode.StackGlobal] = "STACK_GLOBAL", [PickleOpcode.Memoize] = "MEMOIZE",
        [PickleOpcode.Frame] = "FRAME", [PickleOpcode.ByteArray8] = "BYTEARRAY8", [PickleOpcode.NextBuffer] = "NEXT_BUFFER",
        [PickleOpcode.ReadOnlyBuffer] = "READONLY_BUFFER",
    };

    public static string Describe(byte opcode) =>
        Names.TryGetValue((PickleOpcode)opcode, out var name) ? $"{name} (0x{opcode:x2})" : $"0x{opcode:x2}";
}
