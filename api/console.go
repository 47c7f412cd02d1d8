package api

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// consoleFiles is the browser console: static ES modules, no build step,
// nothing loaded from elsewhere at run time (docs/console.md).
//
//go:embed console
var consoleFiles embed.FS

// consolePath is where the console is served.
const consolePath = "/console"

// consoleCSP keeps the console to its own files and its own API.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// mountConsole serves the console under /console/ and sends / there.
func mountConsole(app *fiber.App) {
	sub, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic("api: console assets: " + err.Error()) // the embed directive guarantees it
	}
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect(consolePath+"/", fiber.StatusFound) })
	app.Use(consolePath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, consoleCSP)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return c.Next()
	}, filesystem.New(filesystem.Config{Root: http.FS(sub), Index: "index.html"}))
}
