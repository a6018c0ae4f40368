(* The selection lemma of THEORY.md section 6 ("Selection lemma"), lemma 4 of
   FORMAL_PLAN.md: finitely many functions with the same value and the same
   gradient G at w, and f pointwise among them near w, make f differentiable
   at w with gradient G.  In this form the continuity of f at w, assumed in
   THEORY.md, is not needed: it follows from the conclusion. *)
From Coq Require Import Reals Lra List.
From ADCorrect Require Import Vec Frechet.
Import ListNotations.
Open Scope R_scope.

(* A common delta for finitely many first-order estimates *)
Lemma differentiable_at_uniform W (fs : list (vec -> R)) w G :
  (forall fi, In fi fs -> differentiable_at W fi w G) ->
  forall eps, 0 < eps -> exists delta, 0 < delta /\
    forall fi, In fi fs -> forall h, supported W h -> norm_max W h < delta ->
      Rabs (fi (vadd w h) - fi w - dot W G h) <= eps * norm_max W h.
Proof.
  intros Hfs eps Heps; induction fs as [|f0 fs IH].
  - exists 1; split; [lra|]; intros fi [].
  - destruct IH as [d1 [Hd1 K1]]; [intros fi Hi; apply Hfs; now right|].
    destruct (Hfs f0 (or_introl eq_refl) eps Heps) as [d0 [Hd0 K0]].
    exists (Rmin d0 d1); split; [now apply Rmin_glb_lt|].
    intros fi [<-|Hi] h Hs Hn; pose proof (Rmin_l d0 d1); pose proof (Rmin_r d0 d1).
    + apply K0; [exact Hs|lra].
    + apply K1; [exact Hi|exact Hs|lra].
Qed.

Lemma selection_lemma W (f : vec -> R) (fs : list (vec -> R)) w G delta :
  0 < delta ->
  (forall fi, In fi fs -> differentiable_at W fi w G) ->
  (forall fi, In fi fs -> fi w = f w) ->
  (forall h, supported W h -> norm_max W h < delta ->
     exists fi, In fi fs /\ f (vadd w h) = fi (vadd w h)) ->
  differentiable_at W f w G.
Proof.
  intros Hd Hdiff Hval Hsel eps Heps.
  destruct (differentiable_at_uniform W fs w G Hdiff eps Heps) as [d [Hd0 K]].
  exists (Rmin d delta); split; [now apply Rmin_glb_lt|]; intros h Hs Hn.
  pose proof (Rmin_l d delta); pose proof (Rmin_r d delta).
  destruct (Hsel h Hs ltac:(lra)) as [fi [Hi Heq]].
  rewrite Heq, <- (Hval fi Hi); apply K; [exact Hi|exact Hs|lra].
Qed.

(* The same with the selections indexed by a finite list of patterns *)
Lemma selection_lemma_indexed {A : Type} W (f : vec -> R) (F : A -> vec -> R) (ss : list A) w G delta :
  0 < delta ->
  (forall s, In s ss -> differentiable_at W (F s) w G) ->
  (forall s, In s ss -> F s w = f w) ->
  (forall h, supported W h -> norm_max W h < delta ->
     exists s, In s ss /\ f (vadd w h) = F s (vadd w h)) ->
  differentiable_at W f w G.
Proof.
  intros Hd Hdiff Hval Hsel; apply (selection_lemma W f (map F ss) w G delta Hd).
  - intros fi Hi; apply in_map_iff in Hi; destruct Hi as [s [<- Hs]]; now apply Hdiff.
  - intros fi Hi; apply in_map_iff in Hi; destruct Hi as [s [<- Hs]]; now apply Hval.
  - intros h Hs Hn; destruct (Hsel h Hs Hn) as [s [Hin Heq]].
    exists (F s); split; [now apply in_map|exact Heq].
Qed.
