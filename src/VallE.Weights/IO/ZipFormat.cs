namespace VallE.Weights.IO;

/// <summary>Record signatures and fixed sizes of the zip format (PKWARE APPNOTE 6.3), in one place.</summary>
internal static class ZipFormat
{
    public const uint LocalHeaderSignature = 0x04034b50;        // PK\3\4
    public const uint CentralHeaderSignature = 0x02014b50;      // PK\1\2
    public const uint EndOfCentralDirSignature = 0x06054b50;    // PK\5\6
    public const uint Zip64EndOfCentralDirSignature = 0x06064b50; // PK\6\6
    public const uint Zip64LocatorSignature = 0x07064b50;       // PK\6\7

    public const int LocalHeaderSize = 30;
    public const int CentralHeaderSize = 46;
    public const int EndOfCentralDirSize = 22;
    public const int Zip64LocatorSize = 20;
    public const int Zip64EndOfCentralDirSize = 56;
    public const int MaxCommentLength = ushort.MaxValue;

    public const ushort Zip64ExtraId = 0x0001;
    public const ushort MethodStored = 0;
    public const ushort MethodDeflated = 8;

    public const ushort FlagEncrypted = 1 << 0;
    public const ushort FlagDataDescriptor = 1 << 3;
    public const ushort FlagUtf8 = 1 << 11;

    /// <summary>Deflate cannot expand data by more than ~1032:1, so a larger declared size is a lie.</summary>
    public const long MaxDeflateRatio = 1032;
}
