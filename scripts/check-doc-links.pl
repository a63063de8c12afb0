#!/usr/bin/env perl
# Fails if rustdoc left a link unrendered: `[name]` or `[`name`]` text in the
# generated HTML of linmem's own pages. rustdoc warns about links it cannot
# resolve, but a link it resolves to an item whose docs it did not build
# (a dependency's, under `cargo doc --no-deps`) renders as literal brackets
# without a warning. Usage: scripts/check-doc-links.pl target/doc/linmem
use strict;
use warnings;
use File::Find;

my $dir = shift // 'target/doc/linmem';
my @bad;
find(sub {
    return unless /\.html$/;
    # Items re-exported from wasmi carry wasmi's own docs.
    return if /^(struct\.Engine|enum\.TrapCode)\.html$/;
    my $file = $File::Find::name;
    open(my $fh, '<', $_) or die "$file: $!";
    local $/;
    my $html = <$fh>;
    # Code blocks and the sidebar are not prose.
    $html =~ s{<pre.*?</pre>}{}gs;
    $html =~ s{<script.*?</script>}{}gs;
    # Only the documentation text.
    while ($html =~ m{<div class="docblock[^"]*">(.*?)</div>}gs) {
        my $doc = $1;
        # `[name]` outside inline code, and `[<code>name</code>]`.
        while ($doc =~ m{(\[<code>.*?</code>\])(?!\()}gs) {
            push @bad, "$file: $1";
        }
        (my $prose = $doc) =~ s{<code>.*?</code>}{}gs;
        while ($prose =~ m{(\[[A-Za-z_][\w:]*\])(?!\()}g) {
            push @bad, "$file: $1";
        }
    }
}, $dir);
if (@bad) {
    print STDERR "unrendered intra-doc links (link them explicitly, e.g. to docs.rs):\n";
    print STDERR "  $_\n" for @bad;
    exit 1;
}
print "no unrendered doc links in $dir\n";
