(* T5(b) of THEORY.md section 5 ("Not NS(w) implies f differentiable at w and
   AD correct", for every network), proved as in section 6 ("Selection lemma",
   "Zero adjoints") along FORMAL_PLAN.md "The lemma chain", points 2-6:
   each selection f_s (s a pattern at w) is smooth, with gradient at w the
   back-propagation with its piece slopes (NoKinkAD.v), which is AD_D f(w)
   when no kink neuron has a non-zero adjoint (AD.v); all f_s(w) = f(w)
   (AD.v); near w, f is pointwise one of them (SelectLocal.v); conclude with
   the selection lemma (Selection.v). *)
From Coq Require Import Reals Lra Lia List.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD Selection SelectLocal.
Import ListNotations.
Open Scope R_scope.

(** * Selection networks are well formed and smooth *)

Lemma select_net_wf (net : network) (s : nat -> nat) : wf net -> wf (select_net net s).
Proof.
  intros (Hk & Hnb & Hpb); unfold wf; rewrite select_size; simpl.
  split; [|split; assumption].
  intros k Hlt; rewrite select_tau; exact (Hk k Hlt).
Qed.

(* f_s is differentiable at every point, with gradient the back-propagation
   with the piece slopes *)
Lemma select_net_differentiable_at (net : network) (s : nat -> nat) (w : vec) :
  wf net ->
  differentiable_at (n_params net) (net_eval (select_net net s)) w
    (grad_sl (select_net net s) (piece_slopes net s w) w).
Proof.
  intros Hwf; change (n_params net) with (n_params (select_net net s)).
  apply net_differentiable_at_grad_sl; [now apply select_net_wf|].
  intros k Hk; rewrite select_size in Hk; rewrite select_sigma by exact Hk.
  unfold piece_slopes; apply piece_derive.
Qed.

(* for a pattern compatible with w and no NS(w), the gradient of f_s at w is
   AD_D f(w) *)
Lemma select_net_differentiable_at_ad (net : network) (s : nat -> nat) (w : vec) (D : nat -> R) :
  wf net -> compatible net s w -> ~ NS net D w ->
  differentiable_at (n_params net) (net_eval (select_net net s)) w (ad net D w).
Proof.
  intros Hwf Hs Hns; eapply differentiable_at_grad_ext;
    [|apply select_net_differentiable_at, Hwf].
  intros p _; rewrite select_grad by exact Hs.
  now apply adjoint_independent_of_choice.
Qed.

(** * T5(b) *)

Theorem T5b_not_NS_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> ~ NS net D w ->
  differentiable_at (n_params net) (net_eval net) w (ad net D w).
Proof.
  intros Hwf Hns.
  destruct (selection_local net Hwf w) as [delta [Hd Hsel]].
  apply (selection_lemma_indexed (n_params net) (net_eval net)
           (fun s => net_eval (select_net net s)) (patterns net w) w (ad net D w) delta Hd).
  - intros s Hin; apply select_net_differentiable_at_ad;
      [exact Hwf | now apply patterns_compatible | exact Hns].
  - intros s Hin; apply select_net_eval, patterns_compatible, Hin.
  - exact Hsel.
Qed.

Corollary T5b_not_NS_differentiable' (net : network) (D : nat -> R) (w : vec) :
  wf net -> ~ NS net D w -> differentiable (n_params net) (net_eval net) w.
Proof. intros Hwf Hns; exists (ad net D w); now apply T5b_not_NS_differentiable. Qed.
