// Package alertviews keeps the saved views of the alert queue: personal or
// shared filters with sort and columns, each user's default, and the shared
// views a user chose to hide.
package alertviews
