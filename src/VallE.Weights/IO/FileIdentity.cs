using System.Runtime.InteropServices;

namespace VallE.Weights.IO;

/// <summary>
/// What a path is on disk, as <c>stat(2)</c> says after following links: its kind and its (device, inode) identity.
/// .NET exposes neither, and both decide things a careful command-line tool must get right: an output that is
/// a character device or a FIFO is written in place (renaming a temp file over <c>/dev/null</c> would replace the
/// device node), and an output that is the same file as an input (through another name, a symlink or a hard link)
/// is refused before it overwrites what it reads.
/// </summary>
public readonly record struct FileIdentity(FileKind Kind, ulong Device, ulong Inode)
{
    /// <summary>Follows links; null when nothing exists at <paramref name="path"/> (or it cannot be examined).</summary>
    public static FileIdentity? Of(string path)
    {
        if (StatLayout.Current is { } layout)
        {
            var buffer = new byte[256];
            if (stat(path, buffer) != 0) return null;
            ulong device = BitConverter.ToUInt64(buffer, 0);
            ulong inode = BitConverter.ToUInt64(buffer, 8);
            uint mode = BitConverter.ToUInt32(buffer, layout.ModeOffset);
            return new FileIdentity(KindOf(mode), device, inode);
        }
        // Elsewhere (Windows, unknown layouts): kinds .NET can tell, identity from the fully resolved path.
        if (Directory.Exists(path)) return new FileIdentity(FileKind.Directory, 0, PathHash(path));
        if (File.Exists(path)) return new FileIdentity(FileKind.Regular, 0, PathHash(path));
        return null;
    }

    /// <summary>True when both paths exist and name the same file.</summary>
    public static bool SameFile(string a, string b) => Of(a) is { } x && Of(b) is { } y && x.Device == y.Device && x.Inode == y.Inode;

    private static FileKind KindOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        _ => FileKind.Other,
    };

    private static ulong PathHash(string path)
    {
        string full = Path.GetFullPath(path);
        if (File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target) full = target.FullName;
        ulong h = 14695981039346656037;   // FNV-1a over the normalised path
        foreach (char c in OperatingSystem.IsWindows() ? full.ToUpperInvariant() : full) { h ^= c; h *= 1099511628211; }
        return h;
    }

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] buffer);

    /// <summary>
    /// Where <c>st_mode</c> sits in glibc's <c>struct stat</c> (exported as a function since glibc 2.33).
    /// <c>st_dev</c> and <c>st_ino</c> are the first two 64-bit fields on both 64-bit Linux layouts.
    /// </summary>
    private sealed record StatLayout(int ModeOffset)
    {
        public static readonly StatLayout? Current = Detect();

        private static StatLayout? Detect()
        {
            if (!OperatingSystem.IsLinux()) return null;
            StatLayout? layout = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => new StatLayout(24),    // dev, ino, nlink (8 bytes), mode
                Architecture.Arm64 => new StatLayout(16),  // generic layout: dev, ino, mode, nlink (4 bytes)
                _ => null,
            };
            if (layout is null) return null;
            try
            {
                // The root directory must read back as a directory, or this libc is not the one assumed.
                var buffer = new byte[256];
                if (stat("/", buffer) != 0) return null;
                return KindOf(BitConverter.ToUInt32(buffer, layout.ModeOffset)) == FileKind.Directory ? layout : null;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }
    }
}

public enum FileKind { Regular, Directory, CharacterDevice, BlockDevice, Fifo, Socket, Other }
