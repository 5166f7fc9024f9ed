// Package corpus embeds grounded's default document collection: short Markdown
// documents about choosing and using generative models. A data folder with no index
// is filled from it, so a new user's first question works with no files of their own.
package corpus

import "embed"

// FS holds the default documents, one Markdown file each, at its root.
//
//go:embed *.md
var FS embed.FS
