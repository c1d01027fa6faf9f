package command

import (
	"strings"
	"testing"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// The arguments of a command, each on a body of one line.
func TestParseForms(t *testing.T) {
	tests := map[string]struct {
		body string
		want Command
	}{
		"bare":                          {"/rollback", Command{Kind: Here}},
		"bare with trailing blanks":     {"/rollback \t ", Command{Kind: Here}},
		"help":                          {"/rollback help", Command{Kind: Help}},
		"help in capitals":              {"/ROLLBACK HELP", Command{Kind: Help}},
		"help mixed case":               {"/RollBack Help", Command{Kind: Help}},
		"help with extra word":          {"/rollback help me", Command{Kind: Unknown}},
		"status":                        {"/rollback status", Command{Kind: Status}},
		"status in capitals":            {"/Rollback STATUS", Command{Kind: Status}},
		"status with extra word":        {"/rollback status api-js", Command{Kind: Unknown}},
		"status of a named image":       {"/rollback ghcr.io/acme/status", Command{Kind: Image, Image: "ghcr.io/acme/status"}},
		"resume alone":                  {"/rollback resume", Command{Kind: Resume}},
		"resume short name":             {"/rollback resume api-js", Command{Kind: Resume, Image: "api-js"}},
		"resume in capitals":            {"/rollback RESUME api-js", Command{Kind: Resume, Image: "api-js"}},
		"resume full name":              {"/rollback resume gcr.io/acme/api-js", Command{Kind: Resume, Image: "gcr.io/acme/api-js"}},
		"resume registry with port":     {"/rollback resume localhost:5000/api", Command{Kind: Resume, Image: "localhost:5000/api"}},
		"resume policy":                 {"/rollback resume flux-system:api", Command{Kind: Resume, Policy: "flux-system:api"}},
		"resume policy with dots":       {"/rollback resume apps:web.v2", Command{Kind: Resume, Policy: "apps:web.v2"}},
		"resume tagged image":           {"/rollback resume api-js@" + digest, Command{Kind: Unknown}},
		"resume bad policy":             {"/rollback resume Flux:api", Command{Kind: Unknown}},
		"resume two images":             {"/rollback resume api web", Command{Kind: Unknown}},
		"resume is an image with a tag": {"/rollback resume:1.0", Command{Kind: ImageToTag, Image: "resume", Tag: "1.0"}},
		"full sha":                      {"/rollback 0123456789abcdef0123456789abcdef01234567", Command{Kind: Commit, SHA: "0123456789abcdef0123456789abcdef01234567"}},
		"seven digit sha":               {"/rollback abc1234", Command{Kind: Commit, SHA: "abc1234"}},
		"sha in capitals":               {"/rollback ABC1234DEF", Command{Kind: Commit, SHA: "abc1234def"}},
		"all-letter hex is a sha":       {"/rollback deadbeef", Command{Kind: Commit, SHA: "deadbeef"}},
		"all-digit sha":                 {"/rollback 1234567", Command{Kind: Commit, SHA: "1234567"}},
		"tab separated":                 {"/rollback\tabc1234", Command{Kind: Commit, SHA: "abc1234"}},
		"many blanks between":           {"/rollback  \t  abc1234  ", Command{Kind: Commit, SHA: "abc1234"}},
		"41 hex digits":                 {"/rollback " + strings.Repeat("a", 41), Command{Kind: Unknown}},
		"64 hex digits":                 {"/rollback " + strings.Repeat("0", 64), Command{Kind: Unknown}},
		"six hex digits are an image": {
			"/rollback abc123", Command{Kind: Image, Image: "abc123"}},
		"six hex capitals are not an image": {"/rollback ABC123", Command{Kind: Unknown}},
		"short name":                        {"/rollback api-js", Command{Kind: Image, Image: "api-js"}},
		"full name":                         {"/rollback gcr.io/acme/api-js", Command{Kind: Image, Image: "gcr.io/acme/api-js"}},
		"ghcr name":                         {"/rollback ghcr.io/org/web", Command{Kind: Image, Image: "ghcr.io/org/web"}},
		"registry with port":                {"/rollback registry.local:5000/team/api", Command{Kind: Image, Image: "registry.local:5000/team/api"}},
		"name with separators":              {"/rollback acme/api__v2.x-y", Command{Kind: Image, Image: "acme/api__v2.x-y"}},
		"hex path with registry":            {"/rollback ghcr.io/acme/deadbeef", Command{Kind: Image, Image: "ghcr.io/acme/deadbeef"}},
		"name in capitals":                  {"/rollback API-JS", Command{Kind: Unknown}},
		"name ending in a dot":              {"/rollback api-js.", Command{Kind: Unknown}},
		"name with a trailing slash":        {"/rollback acme/", Command{Kind: Unknown}},
		"name too long":                     {"/rollback " + strings.Repeat("a", 256) + "g", Command{Kind: Unknown}},
		"attached tag":                      {"/rollback api-js:1.2.3", Command{Kind: ImageToTag, Image: "api-js", Tag: "1.2.3"}},
		"attached tag with registry port": {"/rollback localhost:5000/api:v2", Command{
			Kind: ImageToTag, Image: "localhost:5000/api", Tag: "v2"}},
		"host and port read as name and tag": {"/rollback localhost:5000", Command{Kind: ImageToTag, Image: "localhost", Tag: "5000"}},
		"attached tag on a hex name":         {"/rollback deadbeef:1.0", Command{Kind: ImageToTag, Image: "deadbeef", Tag: "1.0"}},
		"attached digest": {"/rollback gcr.io/acme/api-js@" + digest, Command{
			Kind: ImageToTag, Image: "gcr.io/acme/api-js", Tag: digest}},
		"attached tag and digest":   {"/rollback api-js:1.2@" + digest, Command{Kind: Unknown}},
		"attached short digest":     {"/rollback api-js@sha256:abc", Command{Kind: Unknown}},
		"attached empty tag":        {"/rollback api-js:", Command{Kind: Unknown}},
		"attached tag too long":     {"/rollback api-js:" + strings.Repeat("1", 129), Command{Kind: Unknown}},
		"to tag":                    {"/rollback api-js to 1.2.3", Command{Kind: ImageToTag, Image: "api-js", Tag: "1.2.3"}},
		"to tag, keyword capitals":  {"/rollback api-js TO v1.2.3-rc.1", Command{Kind: ImageToTag, Image: "api-js", Tag: "v1.2.3-rc.1"}},
		"to tag with tabs":          {"/rollback\tgcr.io/acme/api-js\tto\t1.2.3", Command{Kind: ImageToTag, Image: "gcr.io/acme/api-js", Tag: "1.2.3"}},
		"to digest":                 {"/rollback ghcr.io/org/web to " + digest, Command{Kind: ImageToTag, Image: "ghcr.io/org/web", Tag: digest}},
		"to tag on a hex name":      {"/rollback deadbeef to 1.0", Command{Kind: ImageToTag, Image: "deadbeef", Tag: "1.0"}},
		"to tag on a sha-long name": {"/rollback abc1234 to 2", Command{Kind: ImageToTag, Image: "abc1234", Tag: "2"}},
		"to tag on a port host":     {"/rollback localhost to 5000/x", Command{Kind: Unknown}},
		"to tag and digest":         {"/rollback api-js to 1.2@" + digest, Command{Kind: Unknown}},
		"to bad digest":             {"/rollback api-js to sha256:xyz", Command{Kind: Unknown}},
		"to tag with a slash":       {"/rollback api-js to a/b", Command{Kind: Unknown}},
		"to tag from a tagged name": {"/rollback api-js:1 to 2", Command{Kind: Unknown}},
		"to nothing":                {"/rollback api-js to", Command{Kind: Unknown}},
		"to without image":          {"/rollback to 1.2.3", Command{Kind: Unknown}},
		"other word for to":         {"/rollback api-js at 1.2.3", Command{Kind: Unknown}},
		"extra trailing word":       {"/rollback abc1234 please", Command{Kind: Unknown}},
		"extra word after to form":  {"/rollback api-js to 1.2.3 now", Command{Kind: Unknown}},
		"punctuation":               {"/rollback abc1234!", Command{Kind: Unknown}},
		"non-breaking space is not a separator": {
			"/rollback abc1234\u00a0x", Command{Kind: Unknown}},
		"any other word that is a name is an image": {"/rollback undo", Command{Kind: Image, Image: "undo"}},
		"markdown in argument": {
			"/rollback `abc1234`", Command{Kind: Unknown}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Parse(tt.body)
			if !ok {
				t.Fatalf("Parse(%q) found no command", tt.body)
			}
			tt.want.Raw = strings.TrimRight(tt.body, " \t")
			tt.want.Line = 1
			if got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.body, got, tt.want)
			}
		})
	}
}

// Where a command stands in a comment, and what is not a command.
func TestParsePlacement(t *testing.T) {
	const cmd = "/rollback abc1234"
	tests := map[string]struct {
		body string
		line int // 0: no command
		raw  string
	}{
		"alone":                         {cmd, 1, cmd},
		"after text":                    {"Broke prod.\n\n" + cmd, 3, cmd},
		"continuing a paragraph":        {"Broke prod, so\n" + cmd, 2, cmd},
		"before text":                   {cmd + "\nthanks", 1, cmd},
		"first of two":                  {"/rollback help\n" + cmd, 1, "/rollback help"},
		"unknown first still counts":    {"/rollback what now\n" + cmd, 1, "/rollback what now"},
		"one leading space":             {" " + cmd, 1, cmd},
		"three leading spaces":          {"   " + cmd, 1, cmd},
		"four leading spaces":           {"    " + cmd, 0, ""},
		"leading tab":                   {"\t" + cmd, 0, ""},
		"space and tab":                 {" \t" + cmd, 0, ""},
		"trailing blanks trimmed":       {cmd + " \t \nx", 1, cmd},
		"crlf":                          {"hello\r\n\r\n" + cmd + "\r\nbye\r\n", 3, cmd},
		"crlf ends raw":                 {cmd + "\r\n", 1, cmd},
		"lone cr":                       {"hello\r\r" + cmd + "\r", 3, cmd},
		"empty body":                    {"", 0, ""},
		"no command":                    {"Looks good to me.\n\nShip it.", 0, ""},
		"mid line":                      {"please " + cmd, 0, ""},
		"longer word":                   {"/rollbacks abc1234", 0, ""},
		"glued argument":                {"/rollbackabc1234", 0, ""},
		"colon after keyword":           {"/rollback: abc1234", 0, ""},
		"escaped slash":                 {`\/rollback abc1234`, 0, ""},
		"other slash command":           {"/revert abc1234", 0, ""},
		"in inline code":                {"`/rollback abc1234`", 0, ""},
		"kelvin sign is not k":          {"/rollbac\u212a abc1234", 0, ""},
		"heading":                       {"# /rollback abc1234", 0, ""},
		"list item":                     {"- /rollback abc1234", 0, ""},
		"list item continuation":        {"- step one\n  " + cmd, 2, cmd},
		"after setext heading":          {"Title\n=====\n" + cmd, 3, cmd},
		"after thematic break":          {"text\n***\n" + cmd, 3, cmd},
		"after heading":                 {"# Title\n" + cmd, 2, cmd},
		"second line after empty lines": {"\n\n\n" + cmd, 4, cmd},

		"backtick fence":                {"```\n" + cmd + "\n```", 0, ""},
		"tilde fence":                   {"~~~\n" + cmd + "\n~~~", 0, ""},
		"fence with info string":        {"```shell title=x\n" + cmd + "\n```", 0, ""},
		"indented fence":                {"   ```\n" + cmd + "\n   ```", 0, ""},
		"unclosed fence":                {"```\n" + cmd, 0, ""},
		"after closed fence":            {"```\nx\n```\n" + cmd, 4, cmd},
		"after closed tilde fence":      {"~~~~\nx\n~~~~~\n" + cmd, 4, cmd},
		"short fence does not close":    {"````\nx\n```\n" + cmd + "\n````", 0, ""},
		"other char does not close":     {"```\nx\n~~~\n" + cmd + "\n```", 0, ""},
		"closer with info is no closer": {"```\nx\n``` sh\n" + cmd + "\n```", 0, ""},
		"closer indented 4 no closer":   {"```\nx\n    ```\n" + cmd + "\n```", 0, ""},
		"closer with trailing blanks":   {"```\nx\n```  \n" + cmd, 4, cmd},
		"two backticks are no fence":    {"``\n" + cmd, 2, cmd},
		"backtick in info is no fence":  {"``` a`b\n" + cmd, 2, cmd},
		"tilde fence info may have backticks": {
			"~~~ a`b\n" + cmd + "\n~~~", 0, ""},
		"fence interrupts paragraph":        {"text\n```\n" + cmd + "\n```", 0, ""},
		"fence in crlf body":                {"```\r\n" + cmd + "\r\n```\r\n", 0, ""},
		"fence closed in crlf body":         {"```\r\nx\r\n```\r\n" + cmd + "\r\n", 4, cmd},
		"fence in list item":                {"- ```\n  " + cmd + "\n  ```", 0, ""},
		"fence in nested list item":         {"1. - ```\n     x\n   " + cmd, 3, cmd},
		"fence in list item ends with item": {"- ```\n" + cmd, 2, cmd},
		"fence in list item, outdented closer opens a fence": {
			"- ```\nx\n```\n" + cmd + "\n```", 0, ""},
		"fence on its own line in list item":   {"- step\n\n  ```\n  " + cmd + "\n  ```", 0, ""},
		"ordered 2 cannot interrupt paragraph": {"text\n2. ```\n" + cmd, 3, cmd},

		"indented code after blank":          {"text\n\n    " + cmd, 0, ""},
		"indented code at start":             {"    " + cmd + "\n" + cmd, 2, cmd},
		"indented code with tab":             {"text\n\n\t" + cmd, 0, ""},
		"indented fence line is not a fence": {"    ```\n" + cmd, 2, cmd},
		"indented comment is not a comment":  {"\n    <!--\n" + cmd, 3, cmd},

		"quote":                   {"> " + cmd, 0, ""},
		"quote without space":     {">" + cmd, 0, ""},
		"nested quote":            {"> > " + cmd, 0, ""},
		"nested quote spaced":     {"> >   " + cmd, 0, ""},
		"indented quote":          {"   > " + cmd, 0, ""},
		"quote lazy continuation": {"> quoted\n" + cmd, 0, ""},
		"quote then blank":        {"> quoted\n\n" + cmd, 3, cmd},
		"quote reply":             {"> " + cmd + "\n\nDone.\n" + cmd, 4, cmd},
		"lazy lines until blank":  {"> quoted\nmore\n" + cmd + "\n\n" + cmd, 5, cmd},
		"quote in list item":      {"- > quoted\n" + cmd, 0, ""},
		"quote ended by heading":  {"> quoted\n# Title\n" + cmd, 3, cmd},
		"quote ended by fence":    {"> quoted\n```\n" + cmd + "\n```\n" + cmd, 5, cmd},
		"fence in quote stays there": {
			"> ```\n\n" + cmd, 3, cmd},

		"html comment":                       {"<!--\n" + cmd + "\n-->", 0, ""},
		"one line html comment":              {"<!-- " + cmd + " -->\n" + cmd, 2, cmd},
		"html comment after text":            {"text\n<!--\n" + cmd + "\n-->", 0, ""},
		"html comment across blank lines":    {"<!--\n\n" + cmd + "\n\n-->\n" + cmd, 6, cmd},
		"unclosed html comment":              {"<!-- note\n" + cmd, 0, ""},
		"html comment then command":          {"<!-- a -->\n" + cmd, 2, cmd},
		"html comment reopened":              {"<!-- a --> <!-- b\n\n" + cmd + "\n-->", 0, ""},
		"inline comment in paragraph":        {"text <!-- note\n" + cmd + "\n-->", 0, ""},
		"inline comment closed":              {"text <!-- note -->\n" + cmd, 2, cmd},
		"empty inline comments":              {"a <!--> b <!---> c\n" + cmd, 2, cmd},
		"unclosed inline comment is text":    {"text <!-- note\n\n" + cmd, 3, cmd},
		"inline comment ended by fence":      {"text <!-- note\n```\n-->\n" + cmd + "\n```", 0, ""},
		"code span across lines":             {"Use `\n" + cmd + "\n` to undo.", 0, ""},
		"unclosed code span is text":         {"a `b\n" + cmd, 2, cmd},
		"code span needs the same length":    {"``a\n" + cmd + "\n`", 2, cmd},
		"code span after escaped backtick":   {"\\``a ``\n" + cmd + "\n`", 0, ""},
		"escaped comment opener":             {"a \\<!-- b\n" + cmd + "\n-->", 2, cmd},
		"comment opener in code span":        {"a `<!--` b\n" + cmd + "\n-->", 2, cmd},
		"backtick in comment":                {"a <!-- ` -->\n" + cmd + "\n`", 2, cmd},
		"covered, then a later command":      {"x ``y\n/rollback help\n``\n" + cmd, 4, cmd},
		"covered, then opener left open":     {"`a\n/rollback help\n` `b\n" + cmd, 4, cmd},
		"list item starts a new paragraph":   {"`a\n- `b\n" + cmd + "\n`", 0, ""},
		"list item ends a code span":         {"a `b\n- c\n" + cmd + "\n`", 3, cmd},
		"quote ends a code span":             {"a `b\n> c\n\n" + cmd + "\n`", 4, cmd},
		"pre inside details":                 {"<details>\n<pre>\n" + cmd + "\n</pre>\n</details>", 0, ""},
		"blockquote element":                 {"<blockquote>\n" + cmd + "\n</blockquote>", 0, ""},
		"another closing tag leaves pre":     {"<pre>\n</script>\n" + cmd, 0, ""},
		"pre left open hides the rest":       {"<div>\n<pre>\n\n" + cmd, 0, ""},
		"pre closed later in raw html":       {"<div>\n<pre>x</pre>\n" + cmd, 3, cmd},
		"processing instruction ends at >":   {"<?php\n>\n" + cmd, 3, cmd},
		"code element in a paragraph":        {"see <code>\n" + cmd + "\n</code>", 0, ""},
		"closed code element":                {"see <code>x</code>\n" + cmd, 2, cmd},
		"code element left open":             {"see <code>x\n\n" + cmd, 0, ""},
		"escaped tag is text":                {"see \\<code>\n" + cmd, 2, cmd},
		"tag in a code span is text":         {"see `<code>`\n" + cmd, 2, cmd},
		"inline processing instruction":      {"a <?x\n" + cmd + "\n?>", 0, ""},
		"unclosed instruction is text":       {"a <?x\n\n" + cmd, 3, cmd},
		"code element left open in heading":  {"# Run <code>\n" + cmd, 0, ""},
		"code element closed in heading":     {"# Run <code>x</code>\n" + cmd, 2, cmd},
		"unterminated tag hides its inside":  {"<div>\n<pre </PRE\n" + cmd, 0, ""},
		"tag ends at its >":                  {"<div>\n<span x\ny>\n" + cmd, 4, cmd},
		"quoted > does not end a tag":        {"<div>\n<pre title=\">\">\n" + cmd, 0, ""},
		"end tag in an attribute":            {"<div>\n<pre>\n<a title=\"</pre>\">\n" + cmd, 0, ""},
		"invalid inline tag is text":         {"a <code x=`>\n" + cmd + "\n`", 0, ""},
		"instruction ends at > in a browser": {"x <? a > b\n" + cmd + "\n?>", 2, cmd},
		"tag after the instruction's >":      {"x <? a > <code> ?>\n" + cmd, 0, ""},
		"inline cdata":                       {"a <![CDATA[\n" + cmd + "\n]]>", 0, ""},
		"inline declaration":                 {"a <!DECL\n" + cmd + "\nx>", 0, ""},
		"a quote ends the paragraph first":   {"a <!DECL\n" + cmd + "\n>", 2, cmd},
		"issue template comment":             {"<!--\nDescribe the problem.\n-->\n\n" + cmd, 5, cmd},
		"comment left open by a list item":   {"- <!--\n" + cmd, 0, ""},
		"comment left open by a quote":       {"> <!--\n\n" + cmd, 0, ""},
		"comment in a list item":             {"- <!--\n\n  " + cmd + "\n  -->", 0, ""},
		"pre block":                          {"<pre>\n" + cmd + "\n</pre>", 0, ""},
		"pre block with attributes":          {"<PRE class=x>\n" + cmd + "\n</Pre>\n" + cmd, 4, cmd},
		"script block":                       {"<script>\n" + cmd + "\n</script>", 0, ""},
		"processing instruction":             {"<?php\n" + cmd + "\n?>", 0, ""},
		"declaration":                        {"<!DOCTYPE\n" + cmd + "\n>", 0, ""},
		"cdata":                              {"<![CDATA[\n" + cmd + "\n]]>", 0, ""},
		"details block shows text":           {"<details>\n<summary>Why</summary>\n" + cmd + "\n</details>", 3, cmd},
		"comment inside details":             {"<details>\n<!--\n" + cmd + "\n-->\n</details>", 0, ""},
		"comment left open by raw html":      {"<div>\n<!--\n\n" + cmd, 0, ""},
		"pasted image then command":          {`<img width="300" alt="graph" src="https://example.com/a.png">` + "\n" + cmd, 2, cmd},
		"raw html block hides fences":        {"<div>\n```\n" + cmd, 3, cmd},
		"lone tag cannot interrupt":          {"text\n<span>\n```\n" + cmd + "\n```", 0, ""},
		"lone tag block ends at blank":       {"<span>\n```\n\n" + cmd, 4, cmd},
		"incomplete tag is a paragraph":      {"<span x\n```\n\n" + cmd + "\n```", 0, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Parse(tt.body)
			if tt.line == 0 {
				if ok {
					t.Fatalf("Parse(%q) = %+v, want no command", tt.body, got)
				}
				return
			}
			if !ok {
				t.Fatalf("Parse(%q) found no command, want line %d", tt.body, tt.line)
			}
			if got.Line != tt.line || got.Raw != tt.raw {
				t.Errorf("Parse(%q) = line %d raw %q, want line %d raw %q", tt.body, got.Line, got.Raw, tt.line, tt.raw)
			}
		})
	}
}

func TestParseLongBody(t *testing.T) {
	filler := strings.Repeat("Some words about the outage. <!-- x --> `code`\n", 1390)
	body := filler + "\n/rollback api-js to 1.2.3\n"
	if len(body) < 65000 || len(body) > 65536 {
		t.Fatalf("body is %d bytes, want just under 65536", len(body))
	}
	got, ok := Parse(body)
	want := Command{Kind: ImageToTag, Image: "api-js", Tag: "1.2.3", Raw: "/rollback api-js to 1.2.3", Line: 1392}
	if !ok || got != want {
		t.Errorf("Parse = %+v, %v; want %+v", got, ok, want)
	}
}

func TestKindString(t *testing.T) {
	tests := map[Kind]string{
		Unknown: "Unknown", Help: "Help", Here: "Here", Commit: "Commit",
		Image: "Image", ImageToTag: "ImageToTag", Kind(99): "Unknown",
	}
	for kind, want := range tests {
		if got := kind.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(kind), got, want)
		}
	}
	var zero Command
	if zero.Kind != Unknown {
		t.Errorf("zero Command has kind %v, want Unknown", zero.Kind)
	}
}

// Every form that the help shows must parse as the kind it describes.
func TestHelpTextShowsEveryForm(t *testing.T) {
	help := HelpText()
	forms := map[string]Kind{
		"`/rollback`":                  Here,
		"`/rollback <sha>`":            Commit,
		"`/rollback <image>`":          Image,
		"`/rollback <image> to <tag>`": ImageToTag,
		"`/rollback help`":             Help,
	}
	examples := map[Kind]string{
		Here: "/rollback", Commit: "/rollback 0a1b2c3", Image: "/rollback web",
		ImageToTag: "/rollback web to 1.0", Help: "/rollback help",
	}
	for form, kind := range forms {
		if !strings.Contains(help, form) {
			t.Errorf("help does not show %s", form)
		}
		if got, ok := Parse(examples[kind]); !ok || got.Kind != kind {
			t.Errorf("example %q of %s parses as %v, %v", examples[kind], form, got.Kind, ok)
		}
	}
	for _, fact := range []string{"7 to 40 hexadecimal digits", "`<image>:<tag>`", "sha256:", "code blocks, quotes and HTML comments"} {
		if !strings.Contains(help, fact) {
			t.Errorf("help does not say %q", fact)
		}
	}
}

func TestParseOverlongReference(t *testing.T) {
	name := strings.Repeat("a/", maxReferenceLen/2) + "a"
	if got, _ := Parse("/rollback " + name); got.Kind != Unknown {
		t.Errorf("a %d-character image parses as %v", len(name), got.Kind)
	}
	longest := strings.Repeat("a", 255) + ":" + strings.Repeat("1", 128)
	if got, _ := Parse("/rollback " + longest); got.Kind != ImageToTag {
		t.Errorf("the longest name and tag parse as %v", got.Kind)
	}
}
